// Prompt handles: messages -> numbers -> the same messages, for any text; messages that share a
// leading part share leading numbers; sorting handles sorts the messages' text; numbers no handle
// holds are refused, naming what to pass.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeHandle, encodeHandle } from "../../../src/runtime/openai/prompt-handle.ts";
import type { ChatMessage } from "../../../src/runtime/types.ts";

const chat = (system: string, user: string): ChatMessage[] => [
  { role: "system", content: system },
  { role: "user", content: user },
];

test("round trip for any text, including multi-byte characters, quotes and empty content", () => {
  const cases: ChatMessage[][] = [
    chat("Be brief.", "Hello"),
    chat("", ""),
    [{ role: "user", content: 'Grüße, 日本語, emoji 🎉, "quotes", back\\slash, new\nline' }],
    [
      { role: "system", content: "x" },
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
      { role: "user", content: "c".repeat(1001) },
    ],
  ];
  for (const messages of cases) assert.equal(decodeHandle(encodeHandle(messages)), messages);
});

test("about one number per 4 bytes of text, each below 2^33", () => {
  const handle = encodeHandle(chat("s", "x".repeat(400)));
  const bytes = Buffer.byteLength(
    JSON.stringify([
      ["system", "s"],
      ["user", "x".repeat(400)],
    ]),
  );
  assert.is(handle.length, Math.ceil(bytes / 4));
  assert.ok(handle.every((n) => Number.isSafeInteger(n) && n < 2 ** 33));
});

test("a shared leading part is a shared prefix of numbers; sorting handles sorts the text", () => {
  const system = "You label reviews. ".repeat(10);
  const a = encodeHandle(chat(system, "The kettle is great."));
  const b = encodeHandle(chat(system, "The kettle broke."));
  let shared = 0;
  while (a[shared] === b[shared]) shared++;
  const common =
    JSON.stringify([
      ["system", system],
      ["user", "The kettle "],
    ]).length - 2;
  assert.ok(shared >= Math.floor(common / 4), `shared ${shared} numbers of ${common} bytes`);
  const users = ["b second", "a first", "c third", "a first again", "b"];
  const handles = users.map((u) => encodeHandle(chat(system, u)));
  const byNumbers = [...handles]
    .sort((x, y) => {
      for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    })
    .map((h) => decodeHandle(h)[1]!.content);
  const byText = [...users].sort((x, y) => {
    const [jx, jy] = [x, y].map((u) =>
      JSON.stringify([
        ["system", system],
        ["user", u],
      ]),
    );
    return jx! < jy! ? -1 : 1;
  });
  assert.equal(byNumbers, byText);
});

test("numbers that are not a handle are refused, saying what to pass", () => {
  for (const bad of [[1, 2, 3], [2 ** 40], [2 ** 24 + 5, 2 ** 32], [2.5], []])
    assert.throws(
      () => decodeHandle(bad),
      /pass model\.encodeChat\(messages\)/,
      JSON.stringify(bad),
    );
});

test.run();
