// `opwise`: operator at a time. One plan node over all queries (its calls submitted together, so
// the LlmWorker batches them), and the next node only when every query finished this one: the
// level-synchronous batching of batch-inference systems without a plan optimizer. Nodes run in a
// topological order of the shape; independent branches do not overlap.
import type { Row } from "../../src/plan/types.ts";
import type { System } from "../harness/types.ts";
import type { InputRow } from "../workloads/inputs.ts";
import { resultRows, StepSet, withColumn } from "./steps.ts";

/** Every query's rows after running `set`'s steps node by node (the floor's reference pass too). */
export async function runNodeByNode(
  set: StepSet,
  inputs: readonly InputRow[],
  signal?: AbortSignal,
): Promise<Row[]> {
  let rows: Row[] = inputs.map((r) => ({ ...r }));
  for (const step of set.steps) {
    const values = await Promise.all(rows.map((row) => step.run(row, signal)));
    rows = rows.map((row, i) => withColumn(row, step.output, values[i]));
  }
  return rows;
}

export const opwise: System = {
  name: "opwise",
  role: "baseline",
  async run(shape, inputs, ctx) {
    const set = new StepSet(shape, inputs, ctx);
    const rows = await runNodeByNode(set, inputs, ctx.signal);
    return { rows: resultRows(shape, rows), counters: await set.counters() };
  },
};
