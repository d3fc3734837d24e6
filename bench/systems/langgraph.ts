// `langgraph`: the workflow written with @langchain/langgraph as its users write one. A per-query
// StateGraph has a node per workflow node and the shape's edges (a node reading several upstream
// outputs waits for all of them: a multi-source edge), with the row as its state; a parent graph
// fans the queries out with `Send` to a node that runs the per-query graph and gathers the rows.
// Node bodies call the same steps as the other baselines (the shared LlmWorker, the same tools).
import { EventEmitter } from "node:events";
import { Annotation, END, Send, START, StateGraph } from "@langchain/langgraph";
import type { Row } from "../../src/plan/types.ts";
import type { System } from "../harness/types.ts";
import type { InputRow } from "../workloads/inputs.ts";
import { resultRows, StepSet, type Step } from "./steps.ts";

const QueryState = Annotation.Root({
  // Each node adds its column; parallel nodes of one superstep both land.
  row: Annotation<Row>({ reducer: (a, b) => ({ ...a, ...b }), default: () => ({}) }),
});

const BatchState = Annotation.Root({
  queries: Annotation<InputRow[]>(),
  results: Annotation<Row[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** The builder with node names as plain strings (they come from data, not literals). */
interface LooseGraph {
  addNode(name: string, fn: (state: never) => Promise<unknown>): LooseGraph;
  addEdge(from: string | string[], to: string): LooseGraph;
  addConditionalEdges(from: string, route: (state: never) => unknown): LooseGraph;
  compile(): { invoke(input: unknown, config?: unknown): Promise<unknown> };
}

/** Supersteps a per-query run may take: the longest chain of the shape, with room to spare. */
const RECURSION_LIMIT = 200;

function queryGraph(steps: readonly Step[], signal?: AbortSignal) {
  const g = new StateGraph(QueryState) as unknown as LooseGraph;
  const feeds = new Set<string>();
  for (const step of steps) {
    g.addNode(step.id, async (state: { row: Row }) => ({
      row: { [step.output]: (await step.run(state.row, signal)) ?? null },
    }));
    for (const d of step.deps) feeds.add(d);
  }
  for (const step of steps) {
    if (step.deps.length === 0) g.addEdge(START, step.id);
    else g.addEdge(step.deps.length === 1 ? step.deps[0]! : step.deps, step.id);
    if (!feeds.has(step.id)) g.addEdge(step.id, END);
  }
  return g.compile();
}

export const langgraph: System = {
  name: "langgraph",
  role: "baseline",
  async run(shape, inputs, ctx) {
    const set = new StepSet(shape, inputs, ctx);
    // LangGraph listens on its run's signals once per concurrent task (a Send per query), and
    // makes those signals itself (combining the caller's with its own): thousands of listeners
    // are expected, and Node warns past 10. Lifted for this system's run only.
    const previousLimit = EventEmitter.defaultMaxListeners;
    EventEmitter.defaultMaxListeners = 0;
    const perQuery = queryGraph(set.steps, ctx.signal);
    const batch = (new StateGraph(BatchState) as unknown as LooseGraph)
      .addNode("query", async (input: { row: Row }) => {
        const out = (await perQuery.invoke(
          { row: input.row },
          { recursionLimit: RECURSION_LIMIT },
        )) as { row: Row };
        return { results: [out.row] };
      })
      .addConditionalEdges(START, (state: { queries: InputRow[] }) =>
        state.queries.map((q) => new Send("query", { row: { ...q } })),
      )
      .addEdge("query", END)
      .compile();
    let out: { results: Row[] };
    try {
      out = (await batch.invoke(
        { queries: inputs },
        { recursionLimit: RECURSION_LIMIT, ...(ctx.signal && { signal: ctx.signal }) },
      )) as { results: Row[] };
    } finally {
      EventEmitter.defaultMaxListeners = previousLimit;
    }
    // Sends finish in any order: back to input order by qid.
    const byQid = new Map(out.results.map((r) => [r.qid, r]));
    const rows = inputs.map((q) => {
      const r = byQid.get(q.qid);
      if (!r) throw new Error(`langgraph: query ${q.qid} produced no row`);
      return r;
    });
    return { rows: resultRows(shape, rows), counters: await set.counters() };
  },
};
