// What lives for the whole session (a kernel or a Node process): reusable results by signature
// and the report of the last collect (`halo.lastRun`).
import { LruResultStore } from "../executor/result-store.ts";
import type { RunReport } from "./run-report.ts";

export const session: { store: LruResultStore; lastRun: RunReport | undefined } = {
  store: new LruResultStore(),
  lastRun: undefined,
};
