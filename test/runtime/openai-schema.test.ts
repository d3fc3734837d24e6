// Typed outputs through halo.openai, over real HTTP on 127.0.0.1: the schema goes out as vLLM's
// `guided_json` and OpenAI's `response_format`; Halo's own /v1/completions decodes under it, so
// remote answers equal the local runtime's; and an engine whose answer breaks the schema (a
// stand-in that answers what it likes) makes that row's error, never a bad value in a column.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { getModel, shippedModelDir, type Model } from "../../src/runtime/index.ts";
import { OpenAiModel } from "../../src/runtime/openai-model.ts";
import { createCompletionsService, type CompletionsService } from "../../src/serve/completions.ts";
import { startCompletionsServer, type TestServer } from "../serve/helpers/completions-server.ts";

const dir = shippedModelDir();
const SCHEMA = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 10 },
    n: { type: "integer", minimum: 0, maximum: 9 },
    ok: { type: "boolean" },
  },
  required: ["name", "n", "ok"],
  additionalProperties: false,
};
let local: Model;
const services: CompletionsService[] = [];
const servers: TestServer[] = [];

async function serve(before?: Parameters<typeof startCompletionsServer>[1]): Promise<TestServer> {
  const service = createCompletionsService();
  services.push(service);
  const server = await startCompletionsServer(service, before);
  servers.push(server);
  return server;
}

test.before(async () => {
  local = await getModel(dir);
});

test.after(async () => {
  for (const s of services) await s.close();
  for (const s of servers) await s.close();
});

test("the schema goes out as guided_json and response_format; answers equal the local runtime", async () => {
  const bodies: Record<string, unknown>[] = [];
  const server = await serve((body) => {
    bodies.push(body as Record<string, unknown>);
    return false; // Halo's own service answers, decoding under the schema
  });
  const remote = new OpenAiModel({ baseUrls: server.url, tokenizer: dir });
  const requests = ["The kettle is great.", "Name: Ada Lovelace, age 36"].map((text) => ({
    promptTokens: remote.encodeChat([{ role: "user", content: text }]),
    sampling: { maxTokens: 40, schema: SCHEMA },
  }));
  const got = await remote.generate(requests);
  const want = await local.generate(requests);
  for (const [i, r] of got.entries()) {
    assert.equal(
      { text: r.text, tokens: r.tokens, finishReason: r.finishReason },
      { text: want[i]!.text, tokens: want[i]!.tokens, finishReason: want[i]!.finishReason },
    );
    const value = JSON.parse(r.text) as Record<string, unknown>;
    assert.equal(Object.keys(value).slice(0, 3), ["name", "n", "ok"]);
  }
  assert.is(bodies.length, 2);
  assert.equal(bodies[0]!.guided_json, SCHEMA);
  assert.equal(bodies[0]!.response_format, {
    type: "json_schema",
    json_schema: { name: "answer", schema: SCHEMA },
  });
});

test("an engine's answer that breaks the schema is that row's error; valid rows keep typed values", async () => {
  // A stand-in engine that ignores guided_json: the prompt's marker says what it answers.
  const answers: Record<string, string> = {
    good: '{"name": "Ada", "n": 3, "ok": true}', // whitespace is fine: it is parsed
    range: '{"name":"Bob","n":12,"ok":false}',
    type: '{"name":"Cy","n":"3","ok":true}',
    text: "Sure! Here is the JSON you asked for",
    extra: '{"name":"Di","n":1,"ok":true,"why":"none"}',
  };
  const server = await serve((body, res) => {
    const prompt = local.decode((body as { prompt: number[] }).prompt);
    const marker = Object.keys(answers).find((k) => prompt.includes(`case ${k}.`))!;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ choices: [{ text: answers[marker], finish_reason: "stop" }] }));
    return true;
  });
  halo.models.register("stand-in", halo.openai({ baseUrls: server.url, tokenizer: dir }));
  try {
    const rows = Object.keys(answers).map((k) => ({ k, text: `case ${k}.` }));
    const { rows: out } = await halo
      .lazy(rows)
      .agent({ prompt: "{{text}}", schema: SCHEMA, model: "stand-in" })
      .collectRows({ reuse: false, onError: "null" });
    const byKey = Object.fromEntries(out.map((r) => [r.k as string, r]));
    assert.equal(
      { name: byKey.good!.name, n: byKey.good!.n, ok: byKey.good!.ok, errors: byKey.good!._errors },
      { name: "Ada", n: 3, ok: true, errors: null },
    );
    const expectations: [string, RegExp][] = [
      ["range", /breaks the schema at \/n: must be <= 9/],
      ["type", /breaks the schema at \/n: must be a number/],
      ["text", /the answer is not JSON: "Sure!/],
      ["extra", /must not have the property "why"/],
    ];
    for (const [k, pattern] of expectations) {
      const row = byKey[k]!;
      assert.match(String(row._errors), pattern, `row ${k}: ${String(row._errors)}`);
      assert.equal([row.name, row.n, row.ok], [null, null, null], `row ${k} keeps no values`);
    }
  } finally {
    halo.models.unregister("stand-in");
  }
});

test("Halo's /v1/completions refuses a schema it cannot decode, naming the keyword", async () => {
  const server = await serve();
  const remote = new OpenAiModel({ baseUrls: server.url, tokenizer: dir, retries: 0 });
  try {
    await remote.generate([
      {
        promptTokens: [1, 2, 3],
        sampling: { maxTokens: 8, schema: { type: "string", format: "email" } },
      },
    ]);
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /answered 400: .*unsupported keyword "format"/);
  }
});

test.run();
