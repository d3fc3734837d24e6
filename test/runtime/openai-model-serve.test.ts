// halo.openai in each mode against a real `halo serve` process on 127.0.0.1: token ids ("tokens"),
// messages ("chat", no tokenizer) and text ("completions") all give the shipped model's own
// answers, because the server applies the same chat template; choices and schemas go out in the
// flavour asked for (structured_outputs, response_format) and come back constrained.
import type { ChildProcess } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import type { OpenAiModelOptions } from "../../src/runtime/openai-model.ts";
import { SAMPLE_REVIEWS, SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";
import { startServe } from "../serve/helpers/serve-process.ts";

let child: ChildProcess;
let url: string;

test.before(async () => {
  ({ child, url } = await startServe([]));
});

test.after(() => {
  child.kill("SIGTERM");
});

const reviews = SAMPLE_REVIEWS.slice(0, 6).map((review, id) => ({ id, review }));

/** The rows of `spec` over the reviews, on the shipped model or on halo serve through `options`. */
async function answers(spec: Record<string, unknown>, options?: Partial<OpenAiModelOptions>) {
  let model: string | undefined;
  if (options) {
    model = "served";
    halo.models.register(model, halo.openai({ baseUrls: `${url}/v1`, ...options } as never));
  }
  try {
    const { rows } = await halo
      .lazy(reviews)
      .agent({ ...spec, ...(model ? { model } : {}) } as never)
      .collectRows({ reuse: false, progress: false });
    return rows;
  } finally {
    if (model) halo.models.unregister(model);
  }
}

const text = { prompt: SENTIMENT_PROMPT, output: "answer", maxTokens: 6 };
const labels = { prompt: SENTIMENT_PROMPT, output: "label", choices: SENTIMENT_CHOICES };

test("every mode gives the shipped model's own answers", async () => {
  const want = await answers(text);
  const modes: Partial<OpenAiModelOptions>[] = [
    { mode: "tokens", tokenizer: shippedModelDir() },
    { mode: "chat", model: "halo-tiny" },
    { mode: "completions", tokenizer: shippedModelDir() },
  ];
  for (const options of modes)
    assert.equal(await answers(text, options), want, JSON.stringify(options));
});

test("choices: guided_choice (tokens) and structured_outputs (chat) decode like the runtime", async () => {
  const want = await answers(labels);
  assert.equal(await answers(labels, { tokenizer: shippedModelDir() }), want);
  assert.equal(await answers(labels, { model: "halo-tiny", structuredOutput: "vllm" }), want);
  // response_format's one-property object: the server decodes under it, the label is read back
  const viaObject = await answers(labels, { model: "halo-tiny" });
  assert.ok(viaObject.every((r) => SENTIMENT_CHOICES.includes(r.label as string)));
});

test("a schema through response_format in chat mode equals the runtime's typed columns", async () => {
  const schema = {
    type: "object",
    properties: {
      mood: { type: "string", enum: ["good", "bad"] },
      stars: { type: "integer", minimum: 1, maximum: 5 },
    },
    required: ["mood", "stars"],
    additionalProperties: false,
  };
  const spec = { prompt: "Review: {{review}}", schema, maxTokens: 30 };
  const want = await answers(spec);
  assert.equal(await answers(spec, { model: "halo-tiny" }), want);
  assert.ok(want.every((r) => ["good", "bad"].includes(r.mood as string)));
});

test.run();
