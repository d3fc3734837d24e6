// Per-row isolation under fuzzed values: random Unicode (emoji, lone surrogates, NUL, RTL marks,
// combining marks, template and JSON fragments, CR/LF) and 100 KB values go through every verb's
// templates (agent prompt and system, SQL parameters, HTTP URL, headers and body, tool
// arguments) in both executors, beside rows whose value cannot be rendered (nested 20,000
// levels deep) or cannot be an HTTP header. Exactly those rows fail, naming their column; every
// other row's output equals the output of a run without the bad rows; explain() never throws;
// both executors give the same table.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { halo, type LazyFrame } from "../../src/index.ts";
import type { Row } from "../../src/plan/types.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";

halo.models.register("fuzz", fakeModel("fuzz"));

/** mulberry32: a seeded generator, so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "word",
  " ",
  "émigré",
  "\u{1F600}",
  "\u{1F469}\u200D\u{1F52C}",
  "\ud83d", // a lone high surrogate (an emoji cut in half)
  "\ude00", // a lone low one
  "\0",
  "\u200f",
  "\u202e",
  "e\u0301",
  "漢字",
  "{{",
  "}}",
  '{"a":',
  "[1,",
  "\\",
  '"',
  "\r\n",
  "%",
  "&=?#/+",
  "\t",
  "\u2028",
  "\ufeff",
];

const seed = Number(process.env.HALO_FUZZ_SEED ?? 16);
const next = random(seed);
const fuzzText = () =>
  Array.from(
    { length: Math.floor(next() * 14) },
    () => PIECES[Math.floor(next() * PIECES.length)],
  ).join("");
let deep: unknown = "bottom";
for (let i = 0; i < 20_000; i++) deep = [deep];

const rows: Row[] = Array.from({ length: 40 }, (_, id) => ({
  id,
  text: id % 13 === 5 ? deep : id % 10 === 7 ? `${"Z".repeat(100_000)}${fuzzText()}` : fuzzText(),
  tag: id % 9 === 4 ? "a\r\nx-evil: 1" : id % 11 === 3 ? `t\u{1F600}${id}` : `tag-${id}`,
}));
const deepRow = (r: Row) => Array.isArray(r.text);
const badHeader = (r: Row) => /[\0\r\n\u0100-\uffff]/.test(String(r.tag));

let server: Server;
let base: string;
test.before(async () => {
  // Headers up to 1 MiB: a 100 KB value percent-encoded in a URL must reach the handler.
  server = createServer({ maxHeaderSize: 2 ** 20 }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      const answer = {
        q: url.searchParams.get("q"),
        h: req.headers["x-q"] ?? null,
        body: body ? JSON.parse(body) : null,
      };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => new Promise<void>((r) => server.close(() => r())));

interface Verb {
  name: string;
  bad: (r: Row) => boolean;
  column: string;
  plan: (lf: LazyFrame) => LazyFrame;
}

// Retries cover a keep-alive socket the server closes as a request reuses it (seen under load);
// a row that cannot be rendered fails before any request, so it is never retried.
const http = { output: "o", retries: 2, timeoutMs: 30_000 };
const VERBS: Verb[] = [
  {
    name: "agent prompt",
    bad: deepRow,
    column: "text",
    plan: (lf) => lf.agent({ prompt: "Q: {{text}}", output: "o", model: "fuzz", maxTokens: 4096 }),
  },
  {
    name: "agent system",
    bad: deepRow,
    column: "text",
    plan: (lf) =>
      lf.agent({ system: "S {{text}}", prompt: "row {{id}}", output: "o", model: "fuzz" }),
  },
  {
    name: "sql params",
    bad: deepRow,
    column: "text",
    plan: (lf) =>
      lf.sql({
        query: "select length($t) as n, $id as id",
        params: { t: "<{{text}}>", id: "{{id}}" },
        shape: "row",
        output: "o",
      }),
  },
  {
    name: "http url",
    bad: deepRow,
    column: "text",
    plan: (lf) => lf.http({ ...http, url: `${base}/echo?q={{text}}&id={{id}}` }),
  },
  {
    name: "http headers",
    bad: badHeader,
    column: "tag",
    plan: (lf) =>
      lf.http({ ...http, url: `${base}/echo?id={{id}}`, headers: { "x-q": "{{tag}}" } }),
  },
  {
    name: "http body",
    bad: deepRow,
    column: "text",
    plan: (lf) =>
      lf.http({
        ...http,
        url: `${base}/echo`,
        method: "POST",
        body: { q: "{{text}}", note: "id {{id}}: {{text}}" },
      }),
  },
  {
    name: "tool args",
    bad: () => false,
    column: "text",
    plan: (lf) =>
      lf.tool(
        (t: unknown, id: number) =>
          `${id}:${typeof t === "string" ? [...t].length : Array.isArray(t) ? "array" : typeof t}`,
        { inputs: ["text", "id"], output: "o" },
      ),
  },
];

for (const verb of VERBS) {
  test(`${verb.name}: exactly the bad rows fail, in both executors, and good rows are unchanged`, async () => {
    const all = verb.plan(halo.lazy(rows));
    // explain() renders nothing it cannot: a bad row is planned as unknown.
    assert.match(all.explain({ optimized: true }), /dedupe-calls/);
    const good = verb.plan(halo.lazy(rows.filter((r) => !verb.bad(r))));
    const tables: Row[][] = [];
    for (const executor of ["row-by-row", "processor"] as const) {
      const got = await all.collectRows({ executor, onError: "null", reuse: false });
      const alone = await good.collectRows({ executor, onError: "null", reuse: false });
      const aloneById = new Map(alone.rows.map((r) => [r.id, r]));
      assert.is(got.rows.length, rows.length);
      for (const row of got.rows) {
        const source = rows[row.id as number]!;
        if (verb.bad(source)) {
          assert.match(
            String(row._errors),
            new RegExp(`^o: column '${verb.column}': `),
            `${executor}: row ${row.id} fails naming its column`,
          );
          assert.is(row.o, null);
        } else {
          assert.is(row._errors, null, `${executor}: row ${row.id}: ${String(row._errors)}`);
          assert.equal(
            row.o,
            aloneById.get(row.id)!.o,
            `${executor}: row ${row.id} as without bad rows`,
          );
        }
      }
      tables.push(got.rows);
    }
    assert.equal(tables[0], tables[1], "both executors give the same table");
  });
}

test("the values that are not errors arrive as sent (lone surrogates as U+FFFD)", async () => {
  const sent = rows.filter((r) => !deepRow(r) && !badHeader(r)).slice(0, 12);
  const { rows: got } = await halo
    .lazy(sent)
    .http({ ...http, url: `${base}/echo?q={{text}}`, headers: { "x-q": "{{tag}}" } })
    .collectRows({ reuse: false });
  got.forEach((r, i) => {
    // Lone surrogates (a code point that is half a pair) become U+FFFD; pairs stay.
    const expected = [...String(sent[i]!.text)]
      .map((c) => (c.length === 1 && c >= "\ud800" && c <= "\udfff" ? "\ufffd" : c))
      .join("");
    assert.is((r.o as { q: string }).q, expected, `row ${r.id}`);
    assert.is((r.o as { h: string }).h, sent[i]!.tag);
  });
});

test('onError "raise": the first bad row stops the run, named with its node and column', async () => {
  for (const executor of ["row-by-row", "processor"] as const) {
    const error = await VERBS[3]!
      .plan(halo.lazy(rows))
      .collectRows({ executor, reuse: false })
      .then(
        () => new Error("no failure"),
        (e: Error) => e,
      );
    assert.match(
      error.message,
      /^row 5 \(id: 5\) failed at node 'o' \(HttpCall #1, column 'text'\): its value nests deeper than JSON can be written; turn it into a string or plain data first/,
      executor,
    );
  }
});

test.run();
