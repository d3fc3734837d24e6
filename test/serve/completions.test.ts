// /v1/completions over real HTTP on 127.0.0.1, the shipped model behind it: answers equal the
// local runtime's `Model.generate` (greedy), bad bodies get 400s naming the field, and concurrent
// requests share the continuous-batching worker (decode batches above 1, prefix-cache hits).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TraceRecorder } from "../../src/processor/trace/trace-recorder.ts";
import { getModel, shippedModelDir, type Model } from "../../src/runtime/index.ts";
import type { ChatMessage } from "../../src/runtime/types.ts";
import { createCompletionsService, type CompletionsService } from "../../src/serve/completions.ts";
import {
  postCompletions,
  startCompletionsServer,
  type TestServer,
} from "./helpers/completions-server.ts";

const reference = JSON.parse(readFileSync(join(shippedModelDir(), "reference.json"), "utf8")) as {
  cases: { task: string; messages: ChatMessage[] | null; promptTokens: number[] }[];
};

let model: Model;
let service: CompletionsService;
let server: TestServer;
const trace = new TraceRecorder();

test.before(async () => {
  model = await getModel();
  service = createCompletionsService({ trace });
  server = await startCompletionsServer(service);
});

test.after(async () => {
  await service.close();
  await server.close();
});

test("token-id prompts answer like Model.generate, with token ids and usage", async () => {
  for (const c of reference.cases.slice(0, 4)) {
    const [local] = await model.generate([
      { promptTokens: c.promptTokens, sampling: { maxTokens: 12 } },
    ]);
    const { status, json } = await postCompletions(server.url, {
      prompt: c.promptTokens,
      max_tokens: 12,
      temperature: 0,
      return_token_ids: true,
      model: "halo-tiny",
    });
    assert.is(status, 200, JSON.stringify(json));
    assert.is(json.object, "text_completion");
    assert.is(json.model, "halo-tiny");
    assert.is(json.choices.length, 1);
    const choice = json.choices[0];
    assert.is(choice.text, local!.text);
    assert.equal(choice.token_ids, local!.tokens);
    assert.equal(choice.prompt_token_ids, c.promptTokens);
    assert.is(choice.finish_reason, local!.finishReason === "length" ? "length" : "stop");
    assert.is(choice.logprobs, null);
    assert.equal(json.usage.prompt_tokens, c.promptTokens.length);
    assert.equal(json.usage.completion_tokens, local!.tokens.length);
    assert.equal(json.usage.total_tokens, c.promptTokens.length + local!.tokens.length);
  }
});

test("text prompts are tokenized as-is; an array gives one choice per prompt", async () => {
  const texts = reference.cases.slice(4, 7).map((c) => model.tokenizer.renderChat(c.messages!));
  const { status, json } = await postCompletions(server.url, { prompt: texts, max_tokens: 10 });
  assert.is(status, 200, JSON.stringify(json));
  assert.is(json.choices.length, 3);
  for (const [i, text] of texts.entries()) {
    const [local] = await model.generate([
      { promptTokens: model.encode(text), sampling: { maxTokens: 10 } },
    ]);
    assert.is(json.choices[i].index, i);
    assert.is(json.choices[i].text, local!.text);
    assert.not.ok("token_ids" in json.choices[i]);
  }
  // the chat template's own tokens, as the runtime makes them, equal the text tokenized as-is
  assert.equal(model.encode(texts[0]!), reference.cases[4]!.promptTokens);
});

test("guided_choice constrains the answer like the runtime's choices; stop strings cut", async () => {
  const labels = ["positive", "negative", "neutral"];
  for (const c of reference.cases.filter((x) => x.task === "sentiment")) {
    const [local] = await model.generate([
      { promptTokens: c.promptTokens, sampling: { maxTokens: 8, choices: labels } },
    ]);
    const { json } = await postCompletions(server.url, {
      prompt: c.promptTokens,
      max_tokens: 8,
      guided_choice: labels,
      return_token_ids: true,
    });
    assert.ok(labels.includes(json.choices[0].text));
    assert.is(json.choices[0].text, local!.text);
    assert.equal(json.choices[0].token_ids, local!.tokens);
    assert.is(json.choices[0].finish_reason, "stop");
    assert.is(json.choices[0].stop_reason, null);
  }
  const c = reference.cases[0]!;
  const [local] = await model.generate([
    { promptTokens: c.promptTokens, sampling: { maxTokens: 16, stop: ["e"] } },
  ]);
  const { json } = await postCompletions(server.url, {
    prompt: c.promptTokens,
    max_tokens: 16,
    stop: "e",
  });
  assert.is(json.choices[0].text, local!.text);
  if (local!.finishReason === "stop") assert.is(json.choices[0].stop_reason, "e");
});

test("malformed bodies get 400 with a message naming the field", async () => {
  const cases: [unknown, RegExp][] = [
    ["not json{", /not JSON/],
    [[1, 2], /JSON object/],
    [{}, /"prompt" is missing/],
    [{ prompt: [] }, /"prompt" must not be/],
    [{ prompt: [1, "a"] }, /prompt\[0\]/],
    [{ prompt: "hi", n: 0 }, /"n" must be an integer from 1 to 128/],
    [{ prompt: "hi", max_tokens: 0 }, /"max_tokens" must be an integer >= 1/],
    [{ prompt: "hi", max_tokens: "5" }, /"max_tokens" must be a number/],
    [{ prompt: "hi", temperature: -1 }, /"temperature"/],
    [{ prompt: "hi", top_p: 2 }, /"top_p"/],
    [{ prompt: "hi", stop: [3] }, /"stop"/],
    [{ prompt: "hi", guided_choice: [] }, /"guided_choice"/],
    [{ prompt: "hi", stream: true }, /"stream": true needs halo serve's HTTP route/],
    [{ prompt: "hi", echo: true }, /"echo" is not supported/],
    [{ prompt: "hi", max_tokens: 2047 }, /asks for 2047 more, but this model has 2048 positions/],
    [{ prompt: [99999] }, /outside this model's vocabulary/],
    [{ prompt: "" }, /is empty/],
    [{ prompt: "x".repeat(3000) }, /positions: shorten it/],
  ];
  for (const [body, message] of cases) {
    const { status, json } = await postCompletions(server.url, body);
    assert.is(status, 400, `${JSON.stringify(body).slice(0, 40)} -> ${status}`);
    assert.is(json.error.type, "invalid_request_error");
    assert.match(json.error.message, message);
  }
});

test("concurrent requests batch in one worker and share cached prefixes", async () => {
  const before = trace.listTasks().length;
  const cases = reference.cases.filter((c) => c.task === "sentiment" || c.task === "category");
  const bodies = Array.from({ length: 12 }, (_, i) => ({
    prompt: cases[i % cases.length]!.promptTokens,
    max_tokens: 6,
    return_token_ids: true,
  }));
  const answers = await Promise.all(bodies.map((b) => postCompletions(server.url, b)));
  for (const [i, a] of answers.entries()) {
    assert.is(a.status, 200);
    const [local] = await model.generate([
      { promptTokens: bodies[i]!.prompt, sampling: { maxTokens: 6 } },
    ]);
    assert.equal(a.json.choices[0].token_ids, local!.tokens);
  }
  const tasks = trace.listTasks().slice(before);
  const decodeBatch = Math.max(...tasks.filter((t) => t.kind === "decode").map((t) => t.batchSize));
  const cached = answers.reduce((n, a) => n + a.json.usage.prompt_tokens_details.cached_tokens, 0);
  console.log(
    `measure: 12 concurrent requests: largest decode batch ${decodeBatch}, cached prompt tokens ${cached}`,
  );
  assert.ok(
    decodeBatch > 1,
    `decode steps ran one request at a time (largest batch ${decodeBatch})`,
  );
  assert.ok(cached > 0, "no prompt tokens came from the prefix cache");
});

test("a closed service refuses with 503", async () => {
  const other = createCompletionsService();
  await other.close();
  try {
    await other.handle({ prompt: "hi" }, new AbortController().signal);
    assert.unreachable();
  } catch (error) {
    assert.is((error as { status?: number }).status, 503);
  }
});

test.run();
