// The systems `halo bench` compares. Each implements bench/harness/types.ts `System`:
//   halo         the frame API with every optimizer pass and Processor feature on
//   per-request  each query's workflow awaited node by node, queries concurrent
//   opwise       one plan node at a time over all queries
//   langgraph    the workflow as a @langchain/langgraph StateGraph
//   halo-no-*    ablations
// None exists yet: they need the frame, optimizer and Processor. Until they land this list is
// empty and `halo bench` says so instead of printing figures.
import type { System } from "../harness/types.ts";

export const SYSTEMS: System[] = [];
