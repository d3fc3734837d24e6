import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { copyDag, topologicalOrder } from "../../src/plan/dag.ts";
import { PlanValidationError, validateDag } from "../../src/plan/validate.ts";
import type { PlanDag } from "../../src/plan/types.ts";

const plan = (): PlanDag =>
  halo
    .lazy([{ id: 1, text: "a" }])
    .tool((t: string) => t.toUpperCase(), { inputs: "text", output: "upper" })
    .filter(halo.col("upper").eq("A"))
    .plan();

test("a lowered plan is valid and ordered inputs first", () => {
  const dag = plan();
  validateDag(dag);
  assert.equal(topologicalOrder(dag), [0, 1, 2, 3]);
});

test("a missing input is reported", () => {
  const dag = copyDag(plan());
  dag.nodes[2]!.inputs = [9];
  assert.throws(
    () => validateDag(dag),
    (e: Error) => e instanceof PlanValidationError && /input #9 does not exist/.test(e.message),
  );
});

test("a cycle is reported", () => {
  const dag = copyDag(plan());
  dag.nodes[1]!.inputs = [2];
  assert.throws(() => validateDag(dag), /cycle/);
});

test("a node reading a column its input lacks is reported (a bad pushdown, say)", () => {
  const dag = copyDag(plan());
  // Move the filter on `upper` before the tool that makes `upper`.
  dag.nodes[2]!.inputs = [0];
  dag.nodes[1]!.inputs = [2];
  dag.nodes[3]!.inputs = [1];
  assert.throws(() => validateDag(dag), /reads missing column\(s\) upper/);
});

test("wrong arity and stale column lists are reported", () => {
  const dag = copyDag(plan());
  dag.nodes[1]!.inputs = [0, 0];
  assert.throws(() => validateDag(dag), /expected 1 input/);
  const stale = copyDag(plan());
  stale.nodes[1]!.columns = ["id"];
  assert.throws(() => validateDag(stale), /columns \["id"\] but its inputs give/);
});

test.run();
