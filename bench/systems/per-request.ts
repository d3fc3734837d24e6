// `per-request`: each query's workflow run on its own as a user would write it: await each node
// in order (a topological order of the shape), queries concurrent. LLM calls meet in the shared
// LlmWorker (continuous batching and a prefix cache, as a vLLM-style server), so the baseline gets
// everything serving gives and nothing a plan-level optimizer gives (no dedup, no reordering).
import type { Row } from "../../src/plan/types.ts";
import type { System } from "../harness/types.ts";
import { resultRows, StepSet, withColumn } from "./steps.ts";

export const perRequest: System = {
  name: "per-request",
  role: "baseline",
  async run(shape, inputs, ctx) {
    const set = new StepSet(shape, inputs, ctx);
    const rows = await Promise.all(
      inputs.map(async (input) => {
        let row: Row = { ...input };
        for (const step of set.steps)
          row = withColumn(row, step.output, await step.run(row, ctx.signal));
        return row;
      }),
    );
    return { rows: resultRows(shape, rows), counters: await set.counters() };
  },
};
