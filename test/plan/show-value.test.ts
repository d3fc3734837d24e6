// Error messages show the value the user gave, shortened, never just its type.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { showValue } from "../../src/plan/show-value.ts";

test("scalars are shown as written", () => {
  assert.is(showValue(3.5), "3.5");
  assert.is(showValue(-1), "-1");
  assert.is(showValue(Number.NaN), "NaN");
  assert.is(showValue(true), "true");
  assert.is(showValue(12n), "12n");
  assert.is(showValue(null), "null");
  assert.is(showValue(undefined), "undefined");
  assert.is(showValue("ok"), '"ok"');
  assert.is(showValue("x".repeat(50)), `"${"x".repeat(40)}…"`);
});

test("data is shown as JSON, cut at 60 characters; objects of a class by their class", () => {
  assert.is(showValue({ a: 1, b: [2, 3] }), '{"a":1,"b":[2,3]}');
  assert.is(showValue([1, "two"]), '[1,"two"]');
  assert.is(showValue(Array.from({ length: 100 }, (_, i) => i)).length, 61);
  assert.is(showValue(new Map()), "a Map object");
  assert.is(
    showValue(function named() {}),
    "a function (named)",
  );
  assert.is(showValue(new Date(0)), "a Date (1970-01-01T00:00:00.000Z)");
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.is(showValue(cycle), "an object");
});

test.run();
