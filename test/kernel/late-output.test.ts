// The bounded hold of output from callbacks whose cell had finished (kernel/late-output.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LateOutput } from "../../kernel/late-output.ts";
import type { HeldOutput } from "../../kernel/late-output.ts";

const drain = (late: LateOutput) => {
  const out: HeldOutput[] = [];
  late.flush((item) => out.push(item));
  return out;
};

test("keeps order, joins consecutive text of one stream, forgets after a flush", () => {
  const late = new LateOutput();
  late.hold({ kind: "stream", name: "stdout", text: "a" });
  late.hold({ kind: "stream", name: "stdout", text: "b" });
  late.hold({ kind: "message", msgType: "display_data", content: { data: {} } });
  late.hold({ kind: "stream", name: "stderr", text: "c" });
  assert.equal(
    drain(late).map((h) => (h.kind === "stream" ? `${h.name}:${h.text}` : h.msgType)),
    ["stdout:ab", "display_data", "stderr:c"],
  );
  assert.is(late.size, 0);
  assert.equal(drain(late), []);
});

test("a forgotten setInterval cannot grow it without bound: the oldest goes, with a note", () => {
  const late = new LateOutput();
  const line = `${"x".repeat(99)}\n`;
  for (let i = 0; i < 30_000; i++) late.hold({ kind: "stream", name: "stdout", text: line });
  for (let i = 0; i < 500; i++)
    late.hold({ kind: "message", msgType: "display_data", content: { i } });
  const out = drain(late);
  const note = out[0]!;
  assert.is(note.kind === "stream" && note.name, "stderr");
  assert.match(
    (note as { text: string }).text,
    /1951424 characters and 300 display messages .* dropped/,
  );
  const text = out.filter((h) => h.kind === "stream" && h.name === "stdout");
  assert.is((text[0] as { text: string }).text.length, 1 << 20);
  const messages = out.filter((h) => h.kind === "message");
  assert.is(messages.length, 200);
  assert.equal((messages[0] as { content: unknown }).content, { i: 300 });
});

test.run();
