// `halo serve` as an OpenAI-compatible server, driven by the official `openai` npm package against
// a real `halo serve` process on 127.0.0.1: the model list (workflows as `workflow/NAME`), chat
// and text completions whose greedy answers equal `Model.generate` on the same prompts, streaming
// as OpenAI streams (the SDK's parser, and the raw server-sent events), n, seed, stop,
// max_completion_tokens, response_format json_schema, usage, 50 concurrent clients, bad requests
// answered in OpenAI's error shape with the right status, and the query token's scope.
import OpenAI from "openai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../../src/index.ts";
import { getModel, shippedModelDir, type Model } from "../../../src/runtime/index.ts";
import type { ChatMessage, SamplingOptions } from "../../../src/runtime/types.ts";
import { SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../../helpers/trained-prompts.ts";
import { startServe } from "../helpers/serve-process.ts";

const QUERY = "query-t0ken";
const ADMIN = "admin-t0ken";
const reference = JSON.parse(readFileSync(join(shippedModelDir(), "reference.json"), "utf8")) as {
  cases: { task: string; messages: ChatMessage[] | null }[];
};
const chats = reference.cases.filter((c) => c.messages !== null).map((c) => c.messages!);

let child: ChildProcess;
let url: string;
let log: string[];
let client: OpenAI;
let local: Model;

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-openai-"));
  const file = join(dir, "sentiment.yaml");
  writeFileSync(
    file,
    `name: sentiment\nnodes:\n  - id: label\n    type: llm\n    prompt: ${JSON.stringify(SENTIMENT_PROMPT)}\n    choices: [${SENTIMENT_CHOICES.join(", ")}]\n    output: sentiment\n`,
  );
  ({ child, url, log } = await startServe(
    ["--workflow", file, "--token", QUERY, "--admin-token", ADMIN],
    {},
  ));
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: QUERY, maxRetries: 0 });
  local = await getModel(shippedModelDir());
});

test.after(() => {
  child.kill("SIGTERM");
});

/** What the local runtime answers for these token ids (greedy unless sampling says). */
async function generate(promptTokens: number[], sampling: SamplingOptions) {
  const [r] = await local.generate([{ promptTokens, sampling }]);
  return r!;
}

test("GET /v1/models lists the served model and the workflows as workflow/NAME", async () => {
  const page = await client.models.list();
  assert.equal(
    page.data.map((m) => [m.id, m.object, m.owned_by]),
    [
      ["halo-tiny", "model", "halo"],
      ["workflow/sentiment", "model", "halo"],
    ],
  );
});

test("chat completions equal Model.generate on the chat template's tokens, with usage", async () => {
  for (const messages of chats.slice(0, 6)) {
    const answer = await client.chat.completions.create({
      model: "halo-tiny",
      messages,
      max_tokens: 24,
      temperature: 0,
    });
    const prompt = local.encodeChat(messages);
    const want = await generate(prompt, { maxTokens: 24 });
    assert.is(answer.object, "chat.completion");
    assert.match(answer.id, /^chatcmpl-/);
    assert.is(answer.model, "halo-tiny");
    assert.is(answer.choices.length, 1);
    assert.is(answer.choices[0]!.message.role, "assistant");
    assert.is(answer.choices[0]!.message.content, want.text);
    assert.is(answer.choices[0]!.finish_reason, want.finishReason === "length" ? "length" : "stop");
    assert.equal(
      [answer.usage!.prompt_tokens, answer.usage!.completion_tokens, answer.usage!.total_tokens],
      [prompt.length, want.tokens.length, prompt.length + want.tokens.length],
    );
  }
});

test("text completions, stop strings and max_completion_tokens", async () => {
  const text = "The delivery was";
  const answer = await client.completions.create({
    model: "halo-tiny",
    prompt: text,
    max_tokens: 12,
    temperature: 0,
  });
  const want = await generate(local.encode(text), { maxTokens: 12 });
  assert.is(answer.object, "text_completion");
  assert.is(answer.choices[0]!.text, want.text);
  const messages = chats[0]!;
  const stopped = await client.chat.completions.create({
    model: "halo-tiny",
    messages,
    max_tokens: 24,
    stop: ["e"],
  });
  const wantStop = await generate(local.encodeChat(messages), { maxTokens: 24, stop: ["e"] });
  assert.is(stopped.choices[0]!.message.content, wantStop.text);
  const short = await client.chat.completions.create({
    model: "halo-tiny",
    messages: chats[1]!,
    max_completion_tokens: 3,
  });
  assert.is(short.usage!.completion_tokens, 3);
  assert.is(short.choices[0]!.finish_reason, "length");
});

test("stream: true, read by the SDK: deltas add up to the whole answer, then usage", async () => {
  for (const messages of chats.slice(2, 5)) {
    const whole = await client.chat.completions.create({
      model: "halo-tiny",
      messages,
      max_tokens: 20,
    });
    const stream = await client.chat.completions.create({
      model: "halo-tiny",
      messages,
      max_tokens: 20,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]!.id));
    assert.equal(chunks[0]!.choices[0]!.delta, { role: "assistant", content: "" });
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    assert.is(content, whole.choices[0]!.message.content);
    const last = chunks.at(-2)!;
    assert.is(last.choices[0]!.finish_reason, whole.choices[0]!.finish_reason);
    assert.equal(last.choices[0]!.delta, {});
    const usage = chunks.at(-1)!;
    assert.equal(usage.choices, []);
    assert.equal(usage.usage!.completion_tokens, whole.usage!.completion_tokens);
    // more than one content chunk: the text went out as it was decoded, not at the end
    assert.ok(chunks.filter((c) => c.choices[0]?.delta.content).length > 1);
  }
  const text = await client.completions.create({
    model: "halo-tiny",
    prompt: "The delivery was",
    max_tokens: 12,
    stream: true,
  });
  let streamed = "";
  for await (const chunk of text) streamed += chunk.choices[0]?.text ?? "";
  const want = await generate(local.encode("The delivery was"), { maxTokens: 12 });
  assert.is(streamed, want.text);
});

test("the raw stream is server-sent events as OpenAI sends them, ending in [DONE]", async () => {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${QUERY}` },
    body: JSON.stringify({
      model: "halo-tiny",
      messages: chats[0],
      max_tokens: 8,
      stream: true,
    }),
  });
  assert.is(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
  const body = await res.text();
  assert.ok(body.endsWith("data: [DONE]\n\n"));
  const events = body.split("\n\n").filter(Boolean);
  assert.ok(events.every((e) => e.startsWith("data: ")));
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
  assert.ok(
    chunks.every((c) => !("usage" in c)),
    "usage appears only when asked for",
  );
  assert.equal(Object.keys(chunks[0]!), ["id", "object", "created", "model", "choices"]);
});

test("a client that leaves mid-stream stops its answer; the server goes on serving", async () => {
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${QUERY}` },
    body: JSON.stringify({
      model: "halo-tiny",
      messages: chats[8],
      max_tokens: 1500,
      stream: true,
    }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  const after = await client.chat.completions.create({
    model: "halo-tiny",
    messages: chats[0]!,
    max_tokens: 4,
  });
  assert.is(after.choices.length, 1);
  assert.not.match(log.join(""), /failed:/);
});

test("n answers: greedy copies agree; seeded sampling differs per copy and repeats", async () => {
  const messages = chats[3]!;
  const greedy = await client.chat.completions.create({
    model: "halo-tiny",
    messages,
    max_tokens: 10,
    n: 3,
  });
  assert.equal(
    greedy.choices.map((c) => c.index),
    [0, 1, 2],
  );
  assert.is(new Set(greedy.choices.map((c) => c.message.content)).size, 1);
  // the prompt counts once, as OpenAI bills it
  assert.is(greedy.usage!.prompt_tokens, local.encodeChat(messages).length);
  // copy i samples with seed + i: the same answers as the runtime with those seeds
  const open = chats[7]!;
  const sampled = await client.chat.completions.create({
    model: "halo-tiny",
    messages: open,
    max_tokens: 10,
    n: 3,
    temperature: 2,
    seed: 11,
  });
  const want = await local.generate(
    [11, 12, 13].map((seed) => ({
      promptTokens: local.encodeChat(open),
      sampling: { maxTokens: 10, temperature: 2, seed },
    })),
  );
  assert.equal(
    sampled.choices.map((c) => c.message.content),
    want.map((w) => w.text),
  );
  assert.ok(new Set(want.map((w) => w.text)).size > 1, "all copies sampled alike");
});

test("response_format json_schema: the answer parses, validates and equals the runtime's", async () => {
  const schema = {
    type: "object",
    properties: {
      name: { type: "string", maxLength: 10 },
      n: { type: "integer", minimum: 0, maximum: 9 },
    },
    required: ["name", "n"],
    additionalProperties: false,
  };
  const messages: ChatMessage[] = [{ role: "user", content: "Name: Ada Lovelace, age 36" }];
  const answer = await client.chat.completions.create({
    model: "halo-tiny",
    messages,
    max_tokens: 40,
    response_format: { type: "json_schema", json_schema: { name: "person", schema } },
  });
  const content = answer.choices[0]!.message.content!;
  const value = JSON.parse(content) as { name: string; n: number };
  assert.ok(typeof value.name === "string" && Number.isInteger(value.n) && value.n <= 9);
  const want = await generate(local.encodeChat(messages), { maxTokens: 40, schema });
  assert.is(content, want.text);
});

test("50 concurrent clients: every answer equals Model.generate", async () => {
  const jobs = Array.from({ length: 50 }, (_, i) => chats[i % chats.length]!);
  const clients = jobs.map(
    () => new OpenAI({ baseURL: `${url}/v1`, apiKey: QUERY, maxRetries: 0 }),
  );
  const answers = await Promise.all(
    jobs.map((messages, i) =>
      clients[i]!.chat.completions.create({ model: "halo-tiny", messages, max_tokens: 12 }),
    ),
  );
  const distinct = [...new Set(jobs)];
  const wants = new Map<ChatMessage[], string>();
  for (const m of distinct)
    wants.set(m, (await generate(local.encodeChat(m), { maxTokens: 12 })).text);
  for (const [i, a] of answers.entries())
    assert.is(a.choices[0]!.message.content, wants.get(jobs[i]!));
  const cached = answers.reduce(
    (n, a) => n + (a.usage!.prompt_tokens_details?.cached_tokens ?? 0),
    0,
  );
  console.log(`measure: 50 concurrent chat clients, ${cached} prompt tokens from the prefix cache`);
  assert.ok(cached > 0, "concurrent requests found nothing in the shared prefix cache");
});

test("bad requests: OpenAI's error shape, the right status, the field named", async () => {
  const cases: [Record<string, unknown>, number, string | null, RegExp][] = [
    [{ messages: [] }, 400, "messages", /non-empty array/],
    [{ messages: [{ role: "tool", content: "x" }] }, 400, "messages", /"messages\[0\]\.role"/],
    [{ messages: chats[0], temperature: 5 }, 400, "temperature", /between 0 .* and 2/],
    [{ messages: chats[0], n: 0 }, 400, "n", /from 1 to 128/],
    [{ messages: chats[0], max_tokens: 0 }, 400, "max_tokens", /integer >= 1/],
    [{ messages: chats[0], max_tokens: 5000 }, 400, "messages", /2048 positions/],
    [{ messages: chats[0], frequency_penalty: 0.5 }, 400, "frequency_penalty", /not supported/],
    [{ messages: chats[0], max_tokns: 5 }, 400, "max_tokns", /unrecognized request field/],
    [
      { messages: chats[0], response_format: { type: "json_object" } },
      400,
      "response_format",
      /json_schema/,
    ],
    [
      {
        messages: chats[0],
        response_format: {
          type: "json_schema",
          json_schema: { name: "x", schema: { type: "string", format: "email" } },
        },
      },
      400,
      "response_format",
      /unsupported keyword "format"/,
    ],
    [{ messages: chats[0], model: "workflow/nope" }, 404, "model", /no workflow 'nope'/],
  ];
  for (const [body, status, param, message] of cases) {
    try {
      await client.chat.completions.create({ model: "halo-tiny", ...body } as never);
      assert.unreachable(JSON.stringify(body));
    } catch (error) {
      const e = error as InstanceType<typeof OpenAI.APIError>;
      assert.instance(e, OpenAI.APIError, String(error));
      assert.is(e.status, status, `${JSON.stringify(body).slice(0, 80)}: ${e.message}`);
      assert.is(e.param, param);
      assert.is(e.type, status === 404 ? "not_found_error" : "invalid_request_error");
      assert.match(e.message, message);
      if (status === 404) assert.is(e.code, "model_not_found");
      if (/positions/.test(String(message))) assert.is(e.code, "context_length_exceeded");
    }
  }
  // not JSON at all: still OpenAI's shape
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${QUERY}` },
    body: "{nope",
  });
  assert.is(res.status, 400);
  const json = (await res.json()) as { error: Record<string, unknown> };
  assert.equal(Object.keys(json.error), ["message", "type", "param", "code"]);
  // the server is still fine
  assert.is((await client.models.list()).data.length, 2);
});

test("least privilege: the query token's scope; the admin token and strangers are refused", async () => {
  const as = (apiKey: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
  const call = (c: OpenAI) =>
    c.chat.completions.create({ model: "halo-tiny", messages: chats[0]!, max_tokens: 2 });
  await call(as(QUERY));
  for (const [key, status] of [
    [ADMIN, 403],
    ["wrong", 401],
    [QUERY.slice(0, -1), 401],
  ] as const) {
    await call(as(key)).then(
      () => assert.unreachable(`${key} was let in`),
      (e: InstanceType<typeof OpenAI.APIError>) => assert.is(e.status, status, key),
    );
    await as(key)
      .models.list()
      .then(
        () => assert.unreachable(`${key} listed models`),
        (e: InstanceType<typeof OpenAI.APIError>) => assert.is(e.status, status, key),
      );
  }
  const bare = await fetch(`${url}/v1/models`);
  assert.is(bare.status, 401);
});

test("a workflow as a model: the query row in, the answer row out, as the query route answers", async () => {
  const review = "The sound is terrible. I want a refund.";
  const answer = await client.chat.completions.create({
    model: "workflow/sentiment",
    messages: [{ role: "user", content: JSON.stringify({ review }) }],
  });
  const row = JSON.parse(answer.choices[0]!.message.content!) as Record<string, unknown>;
  const { rows } = await halo
    .lazy([{ review }])
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
    .collectRows({ reuse: false, progress: false });
  assert.equal(row, { review, sentiment: rows[0]!.sentiment });
  const stream = await client.chat.completions.create({
    model: "workflow/sentiment",
    messages: [{ role: "user", content: JSON.stringify({ review }) }],
    stream: true,
  });
  let streamed = "";
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
  assert.equal(JSON.parse(streamed), row);
  for (const [body, param] of [
    [{ temperature: 0.5 }, "temperature"],
    [{ messages: [{ role: "user", content: "not json" }] }, "messages"],
    [{ messages: [{ role: "user", content: '{"text": "no review column"}' }] }, null],
  ] as const)
    await client.chat.completions
      .create({
        model: "workflow/sentiment",
        messages: [{ role: "user", content: JSON.stringify({ review }) }],
        ...body,
      } as never)
      .then(
        () => assert.unreachable(JSON.stringify(body)),
        (e: InstanceType<typeof OpenAI.APIError>) => {
          assert.is(e.status, 400, e.message);
          assert.is(e.param, param);
        },
      );
  assert.not.match(log.join(""), /failed:/);
});

test.run();
