// docs/troubleshooting.md quotes Halo's messages: trigger each one for real and check the doc
// quotes it word for word, so a reworded error cannot leave the doc stale.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { halo } from "../../src/index.ts";

const doc = readFileSync(new URL("../../docs/troubleshooting.md", import.meta.url), "utf8");
// The doc wraps long prose but never inside a quoted message; compare with single spaces anyway.
const flat = doc.replace(/\s+/g, " ");
const rows = [{ review: "Great kettle." }, { review: "Broke after a day." }];

async function messageOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected an error");
}

function assertQuoted(message: string): void {
  for (const line of message.split("\n").filter((l) => l.trim())) {
    const text = line.replace(/\s+/g, " ").trim();
    assert.ok(flat.includes(text), `docs/troubleshooting.md does not quote:\n  ${text}`);
  }
}

/** With onError "null" a render error stays in its row: its `_errors` text, node name removed. */
async function rowError(frame: ReturnType<typeof halo.lazy>): Promise<never> {
  const { rows } = await frame.collectRows({ onError: "null" });
  throw new Error(String(rows[0]!._errors).replace(/^\w+: /, ""));
}

const cases: Record<string, () => unknown> = {
  "unknown model": () =>
    halo.lazy(rows).agent({ prompt: "{{review}}", output: "x", model: "qwen" }),
  "placeholder names no column": () =>
    halo.lazy(rows).agent({ prompt: "Review: {{text}}", output: "x" }),
  "unknown option": () =>
    halo.lazy(rows).agent({ prompt: "{{review}}", output: "x", choice: ["a"] } as never),
  "missing option": () => halo.lazy(rows).agent({ prompt: "{{review}}" } as never),
  "a schema keyword Halo cannot decode": () =>
    halo.lazy(rows).agent({
      prompt: "{{review}}",
      schema: { type: "object", properties: { email: { type: "string", format: "email" } } },
    }),
  "register a non-folder": () => halo.models.register("mine", "/tmp/nowhere"),
  "filter predicate": () => halo.lazy(rows).filter("review == 1" as never),
  "unknown pass": () => halo.lazy(rows).collectRows({ optimizations: { dedupe: true } as never }),
  "a failing row and the onError hint": () =>
    halo
      .lazy(rows)
      .tool(
        () => {
          throw new Error("boom");
        },
        { inputs: "review", output: "t" },
      )
      .collectRows(),
  "a value JSON cannot write (only its row fails)": () =>
    rowError(
      halo
        .lazy(rows)
        .map((r) => ({ ...r, meta: { n: 1n } }))
        .agent({ prompt: "{{review}} {{meta}}", output: "x" }),
    ),
  "a header value HTTP cannot carry (only its row fails)": () =>
    rowError(
      halo
        .lazy([{ tag: "a\nb" }])
        .http({ url: "http://127.0.0.1:1/x", headers: { "x-tag": "{{tag}}" }, output: "h" }),
    ),
  "two SQL statements": () => halo.lazy(rows).sql({ query: "SELECT 1; SELECT 2", output: "y" }),
  "SQL parameter without a value": () =>
    halo.lazy(rows).sql({ query: "SELECT $kw AS k", output: "y" }),
  "DuckDB parser error": () => halo.db.query("SELEC 1"),
  "PostgreSQL URL": () => halo.connect("mysql://x"),
  "HTTP URL without scheme": () => halo.lazy(rows).http({ url: "example.com", output: "h" }),
};

for (const [name, trigger] of Object.entries(cases)) {
  test(`quoted as printed: ${name}`, async () => {
    // DuckDB's parser error carries a caret diagram after its first line: quote that line only.
    const message = await messageOf(trigger);
    assertQuoted(name === "DuckDB parser error" ? message.split("\n")[0]! : message);
  });
}

test("quoted as printed: prompt too long (the shipped model's 2048 positions)", async () => {
  const message = await messageOf(() =>
    halo
      .lazy([{ review: "word ".repeat(3000) }])
      .agent({ prompt: "Review: {{review}}", output: "x", maxTokens: 4 })
      .collectRows({ calibrate: false }),
  );
  assertQuoted(message);
});

test.run();
