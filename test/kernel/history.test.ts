import { test } from "uvu";
import * as assert from "uvu/assert";
import { History } from "../../kernel/history.ts";

const h = new History();
["a = 1", "6 * 7", "b = 2", "6 * 7", "6 * 7"].forEach((code, i) => h.record(i + 1, code));
h.setOutput(2, "42");

test("tail returns the last n with session and line", () => {
  assert.equal(h.query({ hist_access_type: "tail", n: 2 }), [
    [1, 4, "6 * 7"],
    [1, 5, "6 * 7"],
  ]);
  assert.equal(h.query({ hist_access_type: "tail", n: 1, output: true }), [
    [1, 5, ["6 * 7", null]],
  ]);
});

test("range is [start, stop)", () => {
  assert.equal(
    h.query({ hist_access_type: "range", session: 1, start: 2, stop: 3, output: true }),
    [[1, 2, ["6 * 7", "42"]]],
  );
});

test("search is a glob; unique keeps the latest; n keeps the last n", () => {
  assert.is(h.query({ hist_access_type: "search", pattern: "6*" }).length, 3);
  assert.equal(h.query({ hist_access_type: "search", pattern: "6*", unique: true }), [
    [1, 5, "6 * 7"],
  ]);
  assert.is(h.query({ hist_access_type: "search", pattern: "?*=*", n: 1 }).length, 1);
  assert.equal(h.query({ hist_access_type: "search", pattern: "a = ?" }), [[1, 1, "a = 1"]]);
});

test.run();
