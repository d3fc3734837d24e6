// Streamed text is released only where it cannot change: a partial stop string and an unfinished
// multi-byte character are held back, a choice until it ends; the deltas always add up to the
// answer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TextDeltas } from "../../../src/serve/openai/text-deltas.ts";

function play(d: TextDeltas, texts: string[], final: string): string[] {
  const out = texts.map((t) => d.next(t));
  out.push(d.finish(final));
  return out;
}

test("plain text goes out as it grows", () => {
  assert.equal(play(new TextDeltas(), ["He", "Hell", "Hello"], "Hello"), ["He", "ll", "o", ""]);
});

test("a possible start of a stop string waits until it is known", () => {
  // stop "\n\n": a single newline could be its start
  const d = new TextDeltas(["\n\n"]);
  assert.equal(play(d, ["ab", "ab\n", "ab\nc"], "ab\nc"), ["ab", "", "\nc", ""]);
  // the stop completes: the runtime cuts it, nothing of it was sent
  const e = new TextDeltas(["END"]);
  assert.equal(play(e, ["x E", "x EN"], "x "), ["x ", "", ""]);
});

test("U+FFFD of a split character and a lone high surrogate are held back", () => {
  const d = new TextDeltas();
  assert.equal(play(d, ["caf", "caf\uFFFD", "café"], "café"), ["caf", "", "é", ""]);
  const e = new TextDeltas();
  assert.equal(play(e, ["a\uD83C", "a🎉"], "a🎉"), ["a", "🎉", ""]);
});

test("a choice is sent whole when it ends", () => {
  const d = new TextDeltas([], true);
  assert.equal(play(d, ["pos", "posit"], "positive"), ["", "", "positive"]);
});

test.run();
