// halo.openai against a text-only OpenAI-compatible server (test/helpers/openai-stand-in.ts, a
// real HTTP server on 127.0.0.1 like Ollama, llama.cpp's server or a hosted API): messages and
// text out, `usage` in, no tokenizer; rate limits respected (requests counted per window by the
// server), 429s retried after Retry-After, a row that keeps failing is that row's error and only
// its own; choices and schemas checked whether the server constrained them or not; and the
// optimizer's work still shows on the wire: duplicates merged, filters pushed below the calls,
// prompts sharing a prefix sent side by side.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setDisplayHost, type MimeBundle } from "../../src/display/host.ts";
import { halo } from "../../src/index.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import { OpenAiModel } from "../../src/runtime/openai-model.ts";
import { onWaitsChanged, currentWaits } from "../../src/runtime/openai/wait-notices.ts";
import { mostInWindow, startStandIn, type StandIn } from "../helpers/openai-stand-in.ts";

const servers: StandIn[] = [];
async function standIn(options: Parameters<typeof startStandIn>[0] = {}): Promise<StandIn> {
  const s = await startStandIn(options);
  servers.push(s);
  return s;
}

test.after(async () => {
  for (const s of servers) await s.close();
});

/** Registers `model` under a fresh name, collects, unregisters. */
async function collectWith(
  model: OpenAiModel,
  rows: Record<string, unknown>[],
  spec: Record<string, unknown>,
  options: Record<string, unknown> = {},
) {
  const name = `stand-in-${Math.random().toString(36).slice(2)}`;
  halo.models.register(name, model);
  try {
    return await halo
      .lazy(rows)
      .agent({ ...spec, model: name } as never)
      .collectRows({ reuse: false, onError: "null", progress: false, ...options });
  } finally {
    halo.models.unregister(name);
  }
}

test("chat mode: messages out, answers and usage in, no tokenizer needed", async () => {
  const server = await standIn({ answer: (p) => `echo: ${p.toUpperCase()}` });
  const model = halo.openai({ baseUrls: server.url, model: "llama3.2" });
  assert.is(model.mode, "chat");
  const rows = ["a kettle", "a toaster"].map((item, id) => ({ id, item }));
  const { rows: out } = await collectWith(model, rows, {
    system: "You describe things.",
    prompt: "Describe {{item}}.",
    output: "text",
    maxTokens: 20,
  });
  assert.equal(
    out.map((r) => r.text),
    ["echo: DESCRIBE A KETTLE.", "echo: DESCRIBE A TOASTER."],
  );
  const body = server.received[0]!.body;
  assert.is(server.received[0]!.path, "/v1/chat/completions");
  assert.equal(body.messages, [
    { role: "system", content: "You describe things." },
    { role: "user", content: "Describe a kettle." },
  ]);
  assert.is(body.model, "llama3.2");
  assert.is(body.max_tokens, 20);
  assert.is(body.temperature, 0);
  assert.not.ok("prompt" in body || "return_token_ids" in body);
  // token counts come from the server's usage (a word is a token in the stand-in)
  const node = halo.lastRun!.nodes.find((n) => n.kind === "LlmCall")!;
  assert.is(node.prefillTokens, 2 * (3 + 3));
  assert.is(node.decodeTokens, 2 * 4);
});

test("completions mode: the tokenizer's chat template rendered to text, or plain text without one", async () => {
  const server = await standIn({ answer: () => "fine" });
  const templated = halo.openai({
    baseUrls: server.url,
    mode: "completions",
    tokenizer: shippedModelDir(),
    model: "halo-tiny",
  });
  const plain = halo.openai({ baseUrls: server.url, mode: "completions", model: "base" });
  const messages = [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content: "Hello" },
  ];
  for (const m of [templated, plain])
    await m.generate([{ promptTokens: m.encodeChat(messages), sampling: { maxTokens: 4 } }]);
  assert.equal(
    server.received.map((r) => [r.path, r.body.prompt]),
    [
      [
        "/v1/completions",
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
      ],
      ["/v1/completions", "Be brief.\n\nHello"],
    ],
  );
});

test("limits: the client stays under the server's limit; without them the server refuses", async () => {
  // The server takes 12 requests a second; the client is told 600 a minute (10 a second).
  const rows = Array.from({ length: 36 }, (_, id) => ({ id, text: `row ${id}` }));
  const spec = { prompt: "Say {{text}}", output: "out", maxTokens: 4 };
  const limited = await standIn({ limit: { requests: 12, windowMs: 1000 }, statesLimits: false });
  const seen: string[] = [];
  const stop = onWaitsChanged(() => seen.push(...currentWaits().map((w) => w.label)));
  const model = halo.openai({ baseUrls: limited.url, model: "m", limits: { rpm: 600 } });
  const { rows: out } = await collectWith(model, rows, spec);
  stop();
  assert.ok(out.every((r) => r.out === "ok" && r._errors === null));
  assert.is(limited.refused(), 0, "the client went over the limit it was given");
  assert.is(limited.received.length, 36);
  assert.ok(mostInWindow(limited.received, 1000) <= 12);
  // the progress bar was told what the run waited for, and nothing is left waiting
  assert.ok(
    seen.some((l) => /^rpm 600 at 127\.0\.0\.1:\d+$/.test(l)),
    JSON.stringify(seen.slice(0, 3)),
  );
  assert.equal(currentWaits(), []);
  // the same rows with no limits configured: the server refuses some, and retries get them all
  const control = await standIn({ limit: { requests: 12, windowMs: 1000 }, statesLimits: false });
  const free = halo.openai({ baseUrls: control.url, model: "m", retries: 8 });
  const { rows: again } = await collectWith(free, rows, spec);
  assert.ok(
    again.every((r) => r.out === "ok"),
    JSON.stringify(again.find((r) => r._errors)),
  );
  assert.ok(control.refused() > 0, "the control never hit the limit: the test proves nothing");
  console.log(
    `measure: 36 rows, server limit 12/s: refused ${limited.refused()} with rpm 600, ${control.refused()} without`,
  );
});

test("collect()'s progress bar says what the run waits for", async () => {
  const server = await standIn();
  // 120 a minute: starts 500 ms apart, each a wait the bar can show
  const model = halo.openai({ baseUrls: server.url, model: "m", limits: { rpm: 120 } });
  const shown: MimeBundle[] = [];
  setDisplayHost({ rich: true, display: (bundle) => void shown.push(bundle) });
  try {
    const rows = Array.from({ length: 4 }, (_, id) => ({ id, text: `row ${id}` }));
    await collectWith(model, rows, { prompt: "Say {{text}}", output: "out" }, { progress: true });
  } finally {
    setDisplayHost(undefined);
  }
  const lines = shown.map((b) => b["text/plain"] as string);
  assert.ok(
    lines.some((l) => /waiting [\d.]+ m?s: rpm 120 at 127\.0\.0\.1:\d+/.test(l)),
    lines.join("\n"),
  );
  assert.not.match(lines.at(-1)!, /waiting/);
});

test("stated limits: x-ratelimit-* headers and 429 Retry-After keep refusals to the first burst", async () => {
  // 5 requests per window of 1 s, stated on every answer; the client knows nothing beforehand.
  const server = await standIn({ limit: { requests: 5, windowMs: 1000 } });
  const concurrency = 8;
  const model = halo.openai({ baseUrls: server.url, model: "m", concurrency, retries: 6 });
  const rows = Array.from({ length: 16 }, (_, id) => ({ id, text: `row ${id}` }));
  const { rows: out } = await collectWith(model, rows, {
    prompt: "Say {{text}}",
    output: "out",
    maxTokens: 4,
  });
  assert.ok(
    out.every((r) => r.out === "ok"),
    JSON.stringify(out.find((r) => r._errors)),
  );
  // Only the first burst, sent before any answer said anything, can go over: 8 sent, 5 taken.
  assert.ok(server.refused() <= concurrency - 5, `refused ${server.refused()}`);
  assert.is(server.received.length, 16 + server.refused());
  // every refused request came back later and was answered
  const answered = server.received.filter((r) => r.status === 200).map((r) => r.prompt);
  assert.is(new Set(answered).size, 16);
});

test("tokens per minute: the prompt and the answer's room count, as providers count them", async () => {
  // 6,000 tokens a minute is 100 a second; each request asks for 3 prompt words + 40 tokens, so
  // any second sees at most 100 + one request's 43 tokens: the server takes 150.
  const server = await standIn({ limit: { tokens: 150, windowMs: 1000 }, statesLimits: false });
  const model = halo.openai({ baseUrls: server.url, model: "m", limits: { tpm: 6000 } });
  const rows = Array.from({ length: 8 }, (_, id) => ({ id, text: `row ${id}` }));
  const { rows: out } = await collectWith(model, rows, {
    prompt: "Say {{text}}",
    output: "out",
    maxTokens: 40,
  });
  assert.ok(out.every((r) => r.out === "ok"));
  assert.is(server.refused(), 0);
});

test("a row that keeps failing is that row's error after the retries; the others are not resent", async () => {
  const server = await standIn({ failing: (p) => p.includes("poison") });
  const model = halo.openai({ baseUrls: server.url, model: "m", retries: 2 });
  const rows = ["fine", "poison", "also fine"].map((text, id) => ({ id, text }));
  const { rows: out } = await collectWith(model, rows, {
    prompt: "Say {{text}}",
    output: "out",
    maxTokens: 4,
  });
  assert.equal(
    out.map((r) => r.out),
    ["ok", null, "ok"],
  );
  assert.match(
    String(out[1]!._errors),
    /gave up after 3 attempts; last: .* answered 500: the model crashed/,
  );
  const attempts = (text: string) =>
    server.received.filter((r) => r.prompt === `Say ${text}`).length;
  assert.equal([attempts("fine"), attempts("poison"), attempts("also fine")], [1, 3, 1]);
});

test("choices with a server that cannot constrain: told in the prompt, answers checked", async () => {
  const said: Record<string, string> = {
    great: "Positive.",
    awful: "negative",
    meh: "I would say it is mixed",
  };
  const server = await standIn({
    answer: (p) => said[Object.keys(said).find((k) => p.includes(k))!]!,
  });
  const model = halo.openai({ baseUrls: server.url, model: "m", structuredOutput: "none" });
  const rows = Object.keys(said).map((review, id) => ({ id, review }));
  const { rows: out } = await collectWith(model, rows, {
    prompt: "Review: {{review}}",
    choices: ["positive", "negative", "neutral"],
    output: "label",
  });
  assert.equal(
    out.map((r) => r.label),
    ["positive", "negative", null],
  );
  assert.match(
    String(out[2]!._errors),
    /the answer "I would say it is mixed" is not one of the choices "positive", "negative", "neutral"/,
  );
  assert.match(
    server.received[0]!.prompt,
    /^Review: \w+\n\nAnswer with exactly one of: "positive", "negative", "neutral"\. Reply with that answer only\.$/,
  );
  assert.not.ok("response_format" in server.received[0]!.body);
});

test("choices with servers that constrain: response_format (openai) and grammar (llama.cpp)", async () => {
  const rows = ["great", "awful"].map((review, id) => ({ id, review }));
  const spec = {
    prompt: "Review: {{review}}",
    choices: ["positive", "negative"],
    output: "label",
  };
  const answer = (p: string) => (p.includes("great") ? "positive vibes" : "so negative");
  const openai = await standIn({ answer, honours: "response_format" });
  const a = await collectWith(halo.openai({ baseUrls: openai.url, model: "m" }), rows, spec);
  assert.equal(
    a.rows.map((r) => r.label),
    ["positive", "negative"],
  );
  assert.equal(openai.received[0]!.body.response_format.json_schema.schema.properties.answer, {
    type: "string",
    enum: ["positive", "negative"],
  });
  const llama = await standIn({ answer, honours: "grammar" });
  const l = await collectWith(
    halo.openai({ baseUrls: llama.url, model: "m", structuredOutput: "llamacpp" }),
    rows,
    spec,
  );
  assert.equal(
    l.rows.map((r) => r.label),
    ["positive", "negative"],
  );
  assert.is(llama.received[0]!.body.grammar, 'root ::= "positive" | "negative"');
});

test("schemas: a valid answer becomes typed columns; prose around JSON is read; a bad one is the row's error", async () => {
  const schema = {
    type: "object",
    properties: { stars: { type: "integer", minimum: 1, maximum: 5 }, ok: { type: "boolean" } },
    required: ["stars", "ok"],
    additionalProperties: false,
  };
  const said: Record<string, string> = {
    a: '{"stars": 5, "ok": true}',
    b: 'Here you go:\n```json\n{"stars": 2, "ok": false}\n```',
    c: '{"stars": 9, "ok": true}',
  };
  const server = await standIn({ answer: (p) => said[/case (\w)/.exec(p)![1]!]! });
  const model = halo.openai({ baseUrls: server.url, model: "m", structuredOutput: "none" });
  const rows = Object.keys(said).map((k) => ({ k, text: `case ${k}` }));
  const { rows: out } = await collectWith(model, rows, {
    prompt: "{{text}}",
    schema,
    maxTokens: 30,
  });
  assert.equal(
    out.map((r) => [r.stars, r.ok]),
    [
      [5, true],
      [2, false],
      [null, null],
    ],
  );
  assert.match(String(out[2]!._errors), /breaks the schema at \/stars: must be <= 5/);
  assert.match(server.received[0]!.prompt, /matches this JSON Schema: \{"type":"object"/);
});

test("the optimizer still works on the wire: duplicates merged, filters pushed below the call", async () => {
  const server = await standIn();
  const model = halo.openai({ baseUrls: server.url, model: "m" });
  const rows = [
    { q: "What is it?", keep: true },
    { q: "Is it quiet?", keep: true },
    { q: "What is it?", keep: true },
    { q: "How fast?", keep: false },
    { q: "How big?", keep: false },
  ].map((r, id) => ({ id, ...r }));
  const name = "stand-in-pushdown";
  halo.models.register(name, model);
  try {
    const frame = halo
      .lazy(rows)
      .agent({ prompt: "Question: {{q}}", output: "answer", model: name, maxTokens: 4 })
      .filter(halo.col("keep").eq(true));
    assert.match(await frame.explain(), /Filter .*\n.*LlmCall/);
    const { rows: out } = await frame.collectRows({ reuse: false, progress: false });
    assert.is(out.length, 3);
  } finally {
    halo.models.unregister(name);
  }
  // 5 rows, 2 filtered out before the call, 1 duplicate merged: 2 requests
  assert.equal(server.received.map((r) => r.prompt).sort(), [
    "Question: Is it quiet?",
    "Question: What is it?",
  ]);
});

const docs = {
  A: "Document A. " + "The kettle boils water quickly and quietly. ".repeat(8),
  B: "Document B. " + "The toaster browns bread evenly on both sides. ".repeat(8),
};
/** Questions on documents A and B, interleaved: A, B, A, B, ... */
const interleaved = ["What is it?", "Is it quiet?", "How big?", "How old?"].flatMap((q, i) =>
  (["A", "B"] as const).map((doc) => ({ id: `${doc}${i}`, q, text: docs[doc] })),
);
const docSpec = { prompt: "{{text}}\nQuestion: {{q}}", output: "answer", maxTokens: 4 };
const docOf = (p: string) => p.slice("Document ".length, "Document ".length + 1);

test("prompts sharing a prefix reach the server side by side", async () => {
  const server = await standIn();
  // one request at a time, so the order the server sees is the order Halo sent
  const model = halo.openai({ baseUrls: server.url, model: "m", concurrency: 1 });
  await collectWith(model, interleaved, docSpec);
  const order = server.received.map((r) => docOf(r.prompt)).join("");
  assert.ok(order === "AAAABBBB" || order === "BBBBAAAA", `arrival order ${order}`);
});

test("cache affinity: each document's prompts go to one replica, by a hash of the leading text", async () => {
  const replicas = [await standIn(), await standIn(), await standIn()];
  const model = halo.openai({ baseUrls: replicas.map((s) => s.url), model: "m" });
  await collectWith(model, interleaved, docSpec);
  for (const doc of ["A", "B"]) {
    const used = replicas.filter((s) => s.received.some((r) => docOf(r.prompt) === doc));
    assert.is(used.length, 1, `document ${doc} went to ${used.length} replicas`);
  }
  // the router decides from the prompt handle's first 64 numbers: 256 bytes of the messages' text
  const handle = model.encodeChat([{ role: "user", content: `${docs.A}\nQuestion: x` }]);
  const other = model.encodeChat([{ role: "user", content: `${docs.A}\nQuestion: y` }]);
  assert.equal(model.router.order(handle), model.router.order(other));
});

test.run();
