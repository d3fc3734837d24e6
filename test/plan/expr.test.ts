import { test } from "uvu";
import * as assert from "uvu/assert";
import { col, evaluateExpr, exprColumns, lit } from "../../src/plan/expr.ts";

const row = { label: "negative", stars: 2, note: null, text: "Too slow" };

test("comparisons, logic and string tests evaluate on a row", () => {
  assert.is(evaluateExpr(col("label").eq("negative").node, row), true);
  assert.is(evaluateExpr(col("stars").ge(3).node, row), false);
  assert.is(evaluateExpr(col("stars").lt(3).and(col("text").contains("slow")).node, row), true);
  assert.is(evaluateExpr(col("note").isNull().node, row), true);
  assert.is(evaluateExpr(col("note").gt(1).node, row), false, "null compares false");
  assert.is(evaluateExpr(col("label").isIn(["positive"]).not().node, row), true);
  assert.is(evaluateExpr(col("text").startsWith("Too").or(lit(false)).node, row), true);
});

test("expressions expose the columns they read and print readably", () => {
  const e = col("stars").ge(3).and(col("label").ne("spam"));
  assert.equal([...exprColumns(e.node)].sort(), ["label", "stars"]);
  assert.is(e.toString(), '(col("stars") >= 3 and col("label") != "spam")');
});

test("bad arguments are rejected with a message", () => {
  assert.throws(() => col(""), /non-empty column name/);
  assert.throws(() => col("a").eq({} as never), /expected a halo.col/);
  assert.throws(() => col("a").isIn("x" as never), /isIn: expected an array/);
});

test.run();
