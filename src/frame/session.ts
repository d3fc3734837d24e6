// What lives for the whole session (a kernel or a Node process): reusable results by signature
// (whole node tables) and by call (src/executor/call-store.ts), the report of the last collect
// (`halo.lastRun`), and the Processor every collect plans for and runs on (its workers, prefix
// caches, tool pool and cost model outlive each run). The disk tier of the call results is shared
// by every session on the machine (src/executor/disk-result-store.ts).
import { SessionCallStore } from "../executor/call-store.ts";
import { LruResultStore } from "../executor/result-store.ts";
import { Processor } from "../processor/processor.ts";
import type { RunReport } from "./run-report.ts";

export const session: {
  store: LruResultStore;
  calls: SessionCallStore;
  lastRun: RunReport | undefined;
  processor: Processor;
} = {
  store: new LruResultStore(),
  calls: new SessionCallStore(),
  lastRun: undefined,
  processor: new Processor(),
};
