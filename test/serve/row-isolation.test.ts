// One poisoned query fails only itself in `halo serve`. Through a spawned server: clients send
// fuzzed Unicode, 100 KB values and queries nested 20,000 levels deep (which no request can
// render) at once, the deep ones inside requests beside good queries; only those fail, naming
// the column, and every good query's answer equals its answer when sent without them. In
// process: a batch that fails whole because of one query is run again in halves, so that query
// fails alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { halo } from "../../src/index.ts";
import { Processor } from "../../src/processor/processor.ts";
import { ServerMetrics } from "../../src/serve/metrics.ts";
import { startServe } from "./helpers/serve-process.ts";
import { WorkflowSession, type QueryAnswer } from "../../src/serve/workflow-session.ts";
import type { ExecuteContext, SinkResult } from "../../src/executor/types.ts";
import type { PlanDag, Row } from "../../src/plan/types.ts";
import { SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";

const PIECES = [
  "ok ",
  "é",
  "\u{1F600}",
  "\ud83d",
  "\ude00",
  "\0",
  "\u202e",
  "{{",
  '{"a":',
  "\\",
  "\r\n",
  "&?#",
  "漢",
];
let seed = 7;
const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const fuzz = (n: number) =>
  Array.from({ length: n }, () => PIECES[Math.floor(next() * PIECES.length)]).join("");
/** Stands for a value nested 20,000 levels deep: JSON.stringify could not write it here. */
const DEEP = "\u0000deep";
const DEEP_JSON = `${"[".repeat(20_000)}"bottom"${"]".repeat(20_000)}`;

let echo: Server;
let echoBase: string;
test.before(async () => {
  echo = createServer({ maxHeaderSize: 2 ** 20 }, (req, res) => {
    const q = new URL(req.url!, "http://x").searchParams.get("q") ?? "";
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ length: [...q].length, head: q.slice(0, 16) }));
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoBase = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});
test.after(() => new Promise<void>((r) => echo.close(() => r())));

async function ask(url: string, queries: unknown[]): Promise<QueryAnswer[]> {
  const res = await fetch(`${url}/v1/workflows/fuzz/queries`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ queries }).replaceAll(JSON.stringify(DEEP), DEEP_JSON),
  });
  assert.is(res.status, 200, await res.clone().text());
  return ((await res.json()) as { results: QueryAnswer[] }).results;
}

test("a spawned halo serve: poisoned queries fail alone; good answers as without them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-serve-fuzz-"));
  const file = join(dir, "fuzz.yaml");
  writeFileSync(
    file,
    `name: fuzz
nodes:
  - { id: in, type: input, columns: [text, review] }
  - id: echo
    type: http
    url: "${echoBase}/echo?q={{text}}"
    retries: 2
    output: echoed
  - id: label
    type: llm
    prompt: ${JSON.stringify(SENTIMENT_PROMPT)}
    choices: [${SENTIMENT_CHOICES.join(", ")}]
    output: sentiment
edges:
  - { from: in, to: echo }
  - { from: echo, to: label }
`,
  );
  const { child, url, log } = await startServe(["--workflow", file]);
  try {
    // Six clients at once, 5 queries each; clients 1 and 4 carry a poisoned query among good
    // ones, client 5 has a 100 KB value.
    const clients = Array.from({ length: 6 }, (_, c) =>
      Array.from({ length: 5 }, (_, q) => ({
        text:
          (c === 1 || c === 4) && q === 2
            ? DEEP
            : c === 5 && q === 0
              ? "Z".repeat(100_000)
              : fuzz(8),
        review: fuzz(6),
      })),
    );
    const answers = await Promise.all(clients.map((queries) => ask(url, queries)));
    const good: { query: Row; answer: QueryAnswer }[] = [];
    answers.forEach((results, c) =>
      results.forEach((answer, q) => {
        const query = clients[c]![q]! as Row;
        if (query.text === DEEP) {
          assert.is(answer.outcome, "failed", `client ${c} query ${q}: poisoned`);
          assert.match(
            String(answer.error),
            /^echo: column 'text': its value nests deeper than JSON can be written/,
          );
        } else {
          assert.is(
            answer.outcome,
            "ok",
            `client ${c} query ${q}: ${answer.error} ${log.join("")}`,
          );
          assert.ok(SENTIMENT_CHOICES.includes(String(answer.row!.sentiment)));
          good.push({ query, answer });
        }
      }),
    );
    assert.is(good.length, 28);
    // The same good queries alone, in one request: the same answers.
    const alone = await ask(
      url,
      good.map((g) => g.query),
    );
    alone.forEach((answer, i) => assert.equal(answer.row, good[i]!.answer.row, `good query ${i}`));
    const bigEcho = good.find((g) => String(g.query.text).length === 100_000)!.answer.row!;
    assert.equal(bigEcho.echoed, { length: 100_000, head: "Z".repeat(16) });
  } finally {
    child.kill("SIGTERM");
  }
});

test("a batch that fails whole because of one query is rerun in halves: only that one fails", async () => {
  const workflow = halo.workflow(
    `name: words
nodes:
  - { id: in, type: input, columns: [text] }
  - { id: n, type: function, function: words, inputs: [text], output: n }
`,
    { functions: { words: (t: string) => t.split(" ").length } },
  );
  let runs = 0;
  // Stands for any failure of a whole plan that one query's value brings about.
  class Touchy extends Processor {
    override execute(dag: PlanDag, ctx: ExecuteContext): Promise<SinkResult[]> {
      runs++;
      const poisoned = dag.nodes.some(
        (n) => n.kind === "Source" && n.args.data.rows.some((r) => r.text === "POISON"),
      );
      if (poisoned) return Promise.reject(new Error("the plan failed as a whole"));
      return super.execute(dag, ctx);
    }
  }
  const session = new WorkflowSession("words", workflow, {
    processor: new Touchy(),
    metrics: new ServerMetrics(),
  });
  const texts = ["a b", "c", "POISON", "d e f", "g", "h i", "j", "k l m n"];
  const answers = await Promise.all(session.submit(texts.map((text) => ({ text }))));
  answers.forEach((a, i) => {
    if (texts[i] === "POISON") {
      assert.is(a.outcome, "failed");
      assert.is(a.error, "the plan failed as a whole");
    } else {
      assert.is(a.outcome, "ok", `${texts[i]}: ${a.error}`);
      assert.is(a.row!.n, texts[i]!.split(" ").length);
    }
  });
  // 8 -> 4 + 4 -> 2 + 2 -> 1 + 1: seven runs, not eight single ones after the first.
  assert.is(runs, 7);
});

test.run();
