// The OpenAI-compatible backend over real HTTP servers on 127.0.0.1 (Halo's own /v1/completions
// service in front of the shipped model): the same greedy answers as the local runtime, prefix
// affinity across two replicas, retries after a 503, fallback from a replica that is down, and
// clear errors for bad options, refused requests, timeouts and aborts.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { getModel, shippedModelDir, type Model } from "../../src/runtime/index.ts";
import { OpenAiModel, retryAfterMs } from "../../src/runtime/openai-model.ts";
import type { ChatMessage, GenerateRequest } from "../../src/runtime/types.ts";
import { createCompletionsService, type CompletionsService } from "../../src/serve/completions.ts";
import { startCompletionsServer, type TestServer } from "../serve/helpers/completions-server.ts";

const dir = shippedModelDir();
const reference = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as {
  cases: { task: string; messages: ChatMessage[] | null }[];
};
const chats = reference.cases.filter((c) => c.messages !== null);

let local: Model;
let services: CompletionsService[] = [];
let servers: TestServer[] = [];

async function serve(before?: Parameters<typeof startCompletionsServer>[1]): Promise<TestServer> {
  const service = createCompletionsService();
  services.push(service);
  const server = await startCompletionsServer(service, before);
  servers.push(server);
  return server;
}

/** A port nothing listens on: listen, note the port, close. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

test.before(async () => {
  local = await getModel(dir);
});

test.after(async () => {
  for (const s of services) await s.close();
  for (const s of servers) await s.close();
});

const strip = (r: { text: string; tokens: number[]; finishReason: string }) => ({
  text: r.text,
  tokens: r.tokens,
  finishReason: r.finishReason,
});

test("answers equal the local runtime's Model.generate, choices and stop strings included", async () => {
  const server = await serve();
  const remote = new OpenAiModel({ baseUrls: `${server.url}/v1`, tokenizer: dir });
  const requests: GenerateRequest[] = [];
  for (const c of chats.slice(0, 10)) {
    const promptTokens = remote.encodeChat(c.messages!);
    assert.equal(promptTokens, local.encodeChat(c.messages!));
    requests.push({ promptTokens, sampling: { maxTokens: 24 } });
  }
  for (const c of chats.filter((x) => x.task === "sentiment"))
    requests.push({
      promptTokens: remote.encodeChat(c.messages!),
      sampling: { maxTokens: 8, choices: ["positive", "negative", "neutral"] },
    });
  requests.push({
    promptTokens: requests[0]!.promptTokens,
    sampling: { maxTokens: 16, stop: ["e"] },
  });
  const got = await remote.generate(requests);
  for (const [i, r] of requests.entries()) {
    const [want] = await local.generate([r]);
    assert.equal(strip(got[i]!), strip(want!), `request ${i}`);
    assert.is(got[i]!.prefillTokens + got[i]!.cachedTokens, r.promptTokens.length);
  }
  assert.ok(got.some((r) => r.finishReason === "choice"));
});

test("equal prefixes go to the same replica", async () => {
  const a = await serve();
  const b = await serve();
  const groups = new Map<string, number[][]>();
  for (const c of chats) {
    const list = groups.get(c.task) ?? [];
    list.push(local.encodeChat(c.messages!));
    groups.set(c.task, list);
  }
  // hash exactly the part every prompt of a task shares
  const shared = (x: number[], y: number[]) => {
    let n = 0;
    while (n < x.length && n < y.length && x[n] === y[n]) n++;
    return n;
  };
  const lists = [...groups.values()].filter((l) => l.length > 1);
  const k = Math.min(...lists.map((l) => shared(l[0]!, l[1]!)));
  const remote = new OpenAiModel({ baseUrls: [a.url, b.url], tokenizer: dir, affinityTokens: k });
  const used = new Set<string>();
  for (const prompts of lists) {
    const before = [a.requests, b.requests];
    // each prompt twice, concurrently: 4 requests per task, all on one server
    await remote.generate(
      [...prompts, ...prompts].map((p) => ({ promptTokens: p, sampling: { maxTokens: 2 } })),
    );
    const delta = [a.requests - before[0]!, b.requests - before[1]!];
    assert.ok(
      delta.includes(0) && delta[0]! + delta[1]! === prompts.length * 2,
      `task split across replicas: ${delta}`,
    );
    used.add(delta[0] ? "a" : "b");
  }
  console.log(
    `measure: ${lists.length} tasks, affinity over ${k} tokens, replicas used: ${[...used].join(", ")}`,
  );
});

test("bounded load: a saturated preferred replica spills to the next in the prefix's order", async () => {
  const a = await serve();
  const b = await serve();
  const remote = new OpenAiModel({ baseUrls: [a.url, b.url], tokenizer: dir, concurrency: 1 });
  const prompt = local.encodeChat(chats[0]!.messages!);
  await remote.generate(
    Array.from({ length: 4 }, () => ({ promptTokens: prompt, sampling: { maxTokens: 4 } })),
  );
  assert.ok(a.requests > 0 && b.requests > 0, `${a.requests} / ${b.requests}`);
});

test("a 503 with Retry-After is retried and then succeeds", async () => {
  let refused = 0;
  const server = await serve((_body, res) => {
    if (refused > 0) return false;
    refused++;
    res.writeHead(503, { "retry-after": "0", "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "warming up", type: "unavailable_error" } }));
    return true;
  });
  const remote = new OpenAiModel({ baseUrls: server.url, tokenizer: dir });
  const r = { promptTokens: local.encodeChat(chats[2]!.messages!), sampling: { maxTokens: 12 } };
  const [got] = await remote.generate([r]);
  const [want] = await local.generate([r]);
  assert.equal(strip(got!), strip(want!));
  assert.is(server.requests, 2);
  assert.is(retryAfterMs("2"), 2000);
  assert.ok((retryAfterMs(new Date(Date.now() + 5000).toUTCString()) ?? 0) > 3000);
  assert.is(retryAfterMs("soon"), undefined);
});

test("a replica that is down falls back to the next one", async () => {
  const good = await serve();
  const dead = await deadUrl();
  const remote = new OpenAiModel({ baseUrls: [dead, good.url], tokenizer: dir });
  const all = chats.map((c) => ({
    promptTokens: local.encodeChat(c.messages!),
    sampling: { maxTokens: 6 },
  }));
  // 8 prompts, at least one of which prefers the dead replica (18 prompts all preferring the
  // live one has probability 2^-18)
  const first = all.find((r) => remote.router.order(r.promptTokens)[0]!.url === dead);
  assert.ok(first, "no prompt prefers the dead replica");
  const requests = [first, ...all.filter((r) => r !== first).slice(0, 7)];
  const got = await remote.generate(requests);
  const want = await local.generate(requests);
  assert.equal(got.map(strip), want.map(strip));
  const deadReplica = remote.router.replicas.find((r) => r.url === dead)!;
  assert.ok(
    deadReplica.sent > 0,
    "the dead replica was never tried (all 8 prefixes preferred the live one)",
  );
  assert.ok(deadReplica.downUntil > 0, "the dead replica is not marked down");
  assert.is(good.requests, 8);
});

test("all replicas down: gives up after the retries with the last error", async () => {
  const remote = new OpenAiModel({ baseUrls: [await deadUrl()], tokenizer: dir, retries: 1 });
  try {
    await remote.generate([{ promptTokens: [1, 2, 3], sampling: { maxTokens: 2 } }]);
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /gave up after 2 attempts; last: .*unreachable \(ECONNREFUSED\)/);
  }
});

test("a 400 is not retried and says what the server said", async () => {
  const server = await serve();
  const remote = new OpenAiModel({ baseUrls: server.url, tokenizer: dir });
  try {
    await remote.generate([{ promptTokens: [100000], sampling: { maxTokens: 2 } }]);
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /answered 400: .*outside this model's vocabulary/);
  }
  assert.is(server.requests, 1);
});

test("timeoutMs and the abort signal stop a request that hangs", async () => {
  const hang = await serve(() => true); // never answers
  const remote = new OpenAiModel({ baseUrls: hang.url, tokenizer: dir, timeoutMs: 300 });
  try {
    await remote.generate([{ promptTokens: [1, 2], sampling: { maxTokens: 2 } }]);
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /no answer within timeoutMs 300/);
  }
  const slow = new OpenAiModel({ baseUrls: hang.url, tokenizer: dir });
  const controller = new AbortController();
  const pending = slow.generate([{ promptTokens: [1, 2], sampling: { maxTokens: 2 } }], {
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(new Error("cell interrupted")), 100);
  try {
    await pending;
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /cell interrupted/);
  }
});

test("halo.openai registered as a model: collect() gives the shipped model's answers", async () => {
  const server = await serve();
  halo.models.register("remote", halo.openai({ baseUrls: [server.url], tokenizer: dir }));
  const prompt =
    "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}";
  const reviews = [
    "The kettle is great value. The price is excellent.",
    "The sound is terrible. I want a refund.",
    "The delivery was fine, nothing special.",
    "The kettle is great value. The price is excellent.",
  ].map((review, id) => ({ id, review }));
  const spec = { prompt, output: "label", choices: ["positive", "negative", "neutral"] };
  const remote = await halo
    .lazy(reviews)
    .agent({ ...spec, model: "remote" })
    .collectRows({ reuse: false });
  const shipped = await halo.lazy(reviews).agent(spec).collectRows({ reuse: false });
  assert.equal(remote.rows, shipped.rows);
  // the optimizer still merges the duplicate row before anything reaches the server
  assert.is(server.requests, 3);
  halo.models.unregister("remote");
});

test("bad options name the option and what to pass", () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /pass \{ baseUrls/],
    [{ tokenizer: dir }, /baseUrls must be an http\(s\) URL/],
    [{ baseUrls: [], tokenizer: dir }, /baseUrls/],
    [{ baseUrls: "ftp://x", tokenizer: dir }, /baseUrls/],
    [{ baseUrls: "http://x" }, /model must name the served model/],
    [{ baseUrls: "http://x", mode: "tokens" }, /tokenizer must be a model folder/],
    [{ baseUrls: "http://x", mode: "stream", model: "m" }, /mode must be one of/],
    [{ baseUrls: "http://x", model: "m", structuredOutput: "xml" }, /structuredOutput must be/],
    [
      { baseUrls: "http://x", tokenizer: dir, structuredOutput: "none" },
      /"none" writes choices into the prompt's text/,
    ],
    [{ baseUrls: "http://x", model: "m", limits: { rph: 5 } }, /limits\.rph is not a limit/],
    [{ baseUrls: "http://x", model: "m", limits: { rpm: 0.5 } }, /limits\.rpm must be a whole/],
    [{ baseUrls: "http://x", model: "m", stream: true }, /unknown option 'stream'/],
    [{ baseUrls: "http://x", tokenizer: "/nonexistent" }, /tokenizer\.json/],
    [
      { baseUrls: "http://x", tokenizer: dir, concurrency: 0 },
      /concurrency must be an integer >= 1/,
    ],
    [{ baseUrls: "http://x", tokenizer: dir, retries: -1 }, /retries/],
    [{ baseUrls: "http://x", tokenizer: dir, affinityTokens: 1.5 }, /affinityTokens/],
    [{ baseUrls: "http://x", tokenizer: dir, apiKey: 5 }, /apiKey must be a non-empty string/],
  ];
  for (const [options, message] of cases)
    assert.throws(() => new OpenAiModel(options as never), message, JSON.stringify(options));
});

test.run();
