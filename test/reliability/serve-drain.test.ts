// SIGTERM while `halo serve` (a real process, the shipped model) has queries queued and running:
// every query it accepted is answered `ok` exactly once, new connections are refused, and the
// process exits 0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SAMPLE_REVIEWS, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";
import { startServe } from "../serve/helpers/serve-process.ts";

const YAML = `
name: sentiment
nodes:
  - id: label
    type: llm
    prompt: ${JSON.stringify(SENTIMENT_PROMPT)}
    choices: [positive, negative, neutral]
    output: sentiment
`;

const CLIENTS = 8;
const PER_CLIENT = 6;

test("SIGTERM: queries in flight and queued all finish, then the process exits 0", async () => {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "halo-drain-"));
  const file = join(dir, "sentiment.yaml");
  writeFileSync(file, YAML);
  const { child, url, log } = await startServe(["--workflow", file, "--drain-ms", "120000"]);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // Distinct reviews, so no answer comes from a cache: each query runs the model.
  const reviews = Array.from(
    { length: CLIENTS * PER_CLIENT },
    (_, i) => `${SAMPLE_REVIEWS[i % SAMPLE_REVIEWS.length]} (order ${i})`,
  );
  let answered = 0;
  // Each client sends its queries in one request and waits for the answers.
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    const mine = reviews.filter((_, i) => i % CLIENTS === c);
    const body = JSON.stringify({ queries: mine.map((review) => ({ review })) });
    const res = await fetch(`${url}/v1/workflows/sentiment/queries`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Connection: "close" },
      body,
    });
    assert.is(res.status, 200);
    const results = ((await res.json()) as { results: { index: number; outcome: string }[] })
      .results;
    answered += results.length;
    return results.map((r) => ({ review: mine[r.index]!, outcome: r.outcome }));
  });
  // SIGTERM once every query is accepted (queued or running) and before all are answered.
  for (;;) {
    const health = (await (await fetch(`${url}/healthz`)).json()) as {
      queued: number;
      running: number;
    };
    if (health.queued + health.running + answered >= reviews.length) {
      assert.ok(health.queued + health.running > 0, "all answered before SIGTERM: no drain seen");
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGTERM");
  // Once the signal is handled (the event loop may be busy a while on a loaded machine), new
  // connections are refused, or see "draining" just before.
  let late = "ok";
  for (let i = 0; i < 300 && late === "ok"; i++) {
    late = await fetch(`${url}/healthz`).then(
      async (res) => ((await res.json()) as { status: string }).status,
      () => "refused",
    );
    if (late === "ok") await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(["refused", "draining"].includes(late), `after SIGTERM: ${late}`);

  const answers = (await Promise.all(clients)).flat();
  const counts = new Map<string, number>();
  for (const a of answers) {
    counts.set(a.review, (counts.get(a.review) ?? 0) + 1);
    assert.is(a.outcome, "ok", log.join(""));
  }
  assert.is(answers.length, reviews.length);
  assert.ok(
    reviews.every((r) => counts.get(r) === 1),
    "each query answered exactly once",
  );
  assert.is(await exited, 0, log.join(""));
  assert.match(log.join(""), /SIGTERM: finishing queries in flight/);
  console.log(
    `measure: SIGTERM drain: ${reviews.length} queries from ${CLIENTS} clients accepted before SIGTERM, ${answers.length} answered ok exactly once, 0 lost, exit 0, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

test.run();
