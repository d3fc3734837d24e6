// What lives for the whole session (a kernel or a Node process): reusable results by signature,
// the report of the last collect (`halo.lastRun`), and the Processor every collect plans for and
// runs on (its workers, prefix caches, tool pool and cost model outlive each run).
import { LruResultStore } from "../executor/result-store.ts";
import { Processor } from "../processor/processor.ts";
import type { RunReport } from "./run-report.ts";

export const session: {
  store: LruResultStore;
  lastRun: RunReport | undefined;
  processor: Processor;
} = {
  store: new LruResultStore(),
  lastRun: undefined,
  processor: new Processor(),
};
