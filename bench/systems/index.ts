// The systems `halo bench` compares. Each implements bench/harness/types.ts `System`:
//   halo         the workload's plan, collect() with every optimizer pass on (./halo.ts)
//   per-request  each query's workflow awaited node by node, queries concurrent (./per-request.ts)
//   opwise       one plan node at a time over all queries (./opwise.ts)
//   langgraph    the workflow as a @langchain/langgraph StateGraph, queries fanned out with Send
//   halo-no-*    ablations: halo with one optimizer pass off
// The baselines share one LlmWorker per model per run (continuous batching, prefix cache) and
// the frame's own tools, so outputs are identical and only scheduling differs.
import type { System } from "../harness/types.ts";
import { halo, haloAblations } from "./halo.ts";
import { langgraph } from "./langgraph.ts";
import { opwise } from "./opwise.ts";
import { perRequest } from "./per-request.ts";

/** What runs when --systems is not given. */
export const DEFAULT_SYSTEMS: System[] = [halo, perRequest, opwise, langgraph];

/** Every system by name (ablations run only when asked for, or with --ablations). */
export const SYSTEMS: System[] = [...DEFAULT_SYSTEMS, ...haloAblations];

export const ABLATIONS: System[] = haloAblations;
