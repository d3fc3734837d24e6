// .agent() end to end on the shipped model: the chat template, greedy decoding and choices
// through the whole collect path. The model is tiny and knows only its trained phrasings, so
// exact answers are asserted only where the model's reference data gives them; elsewhere the
// properties: answers among the choices, deterministic, equal across paths.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { getModel } from "../../src/runtime/index.ts";
import { referenceCases, shippedModelPresent } from "./fixtures/shipped-model.ts";

const present = shippedModelPresent();
const SENTIMENT =
  "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}";
const reviews = [
  "The kettle is great value. The price is excellent.",
  "The sound is terrible. I want a refund.",
  "The delivery was fine, nothing special.",
  "The jacket fits perfectly and the color is lovely.",
  "The battery died after two days. Very disappointing.",
].map((review, id) => ({ id, review }));

test("greedy answers equal the model's reference continuations", async () => {
  if (!present) return;
  const { maxNewTokens, cases } = referenceCases();
  const single = cases.filter((c) => c.messages?.length === 1 && c.messages[0]!.role === "user");
  assert.ok(single.length >= 5, "reference data has single-turn cases");
  const { rows } = await halo
    .lazy(single.map((c) => ({ content: c.messages![0]!.content })))
    .agent({ prompt: "{{content}}", output: "answer", maxTokens: maxNewTokens })
    .collectRows({ reuse: false });
  assert.equal(
    rows.map((r) => r.answer),
    single.map((c) => c.greedyText),
  );
  const run = halo.lastRun!;
  console.log(
    `measure: ${single.length} reference prompts row by row in ${run.wallMs.toFixed(0)} ms, prefill ${run.nodes[1]!.prefillTokens} decode ${run.nodes[1]!.decodeTokens} tokens`,
  );
});

test("choices: every answer is a label; deterministic; equal to a direct batched generate", async () => {
  if (!present) return;
  const choices = ["positive", "negative", "neutral"];
  const lf = halo.lazy(reviews).agent({ prompt: SENTIMENT, choices, output: "label" });
  const a = await lf.collectRows({ reuse: false });
  const b = await lf.collectRows({ reuse: false });
  const labels = a.rows.map((r) => r.label as string);
  assert.ok(
    labels.every((l) => choices.includes(l)),
    `labels ${labels}`,
  );
  assert.equal(
    b.rows.map((r) => r.label),
    labels,
  );
  // Another path: the runtime directly, all rows in one batch.
  const model = await getModel();
  const direct = await model.generate(
    reviews.map((r) => ({
      promptTokens: model.encodeChat([
        { role: "user", content: SENTIMENT.replace("{{review}}", r.review) },
      ]),
      sampling: { maxTokens: 64, choices },
    })),
  );
  assert.equal(
    direct.map((d) => d.text),
    labels,
  );
});

test("a system message, a chained second agent and a tool in one plan", async () => {
  if (!present) return;
  const { rows, columns } = await halo
    .lazy(reviews)
    .agent({
      name: "classify",
      system: "You are a helpful assistant.",
      prompt: SENTIMENT,
      choices: ["positive", "negative", "neutral"],
      output: "label",
    })
    .agent({
      name: "summarize",
      prompt: "Summarize the review in a few words.\nReview: {{review}}",
      output: "summary",
      maxTokens: 16,
      stop: ["\n"],
    })
    .tool((s: string) => s.length, { inputs: "summary", output: "chars" })
    .collectRows({ reuse: false });
  assert.equal(columns, ["id", "review", "label", "summary", "chars"]);
  for (const r of rows) {
    assert.type(r.summary, "string");
    assert.ok(!(r.summary as string).includes("\n"), "stop string excluded");
    assert.is(r.chars, (r.summary as string).length);
  }
  // The explicit default system message renders the same prompt as none at all.
  const plain = await halo
    .lazy(reviews)
    .agent({ prompt: SENTIMENT, choices: ["positive", "negative", "neutral"], output: "label" })
    .collectRows({ reuse: false });
  assert.equal(
    plain.rows.map((r) => r.label),
    rows.map((r) => r.label),
  );
});

test("the model can be named by folder or by a registered name", async () => {
  if (!present) return;
  const { shippedModelDir } = await import("../../src/runtime/index.ts");
  halo.models.register("tiny", shippedModelDir());
  const byName = await halo
    .lazy(reviews.slice(0, 2))
    .agent({ prompt: SENTIMENT, choices: ["positive", "negative"], output: "l", model: "tiny" })
    .collectRows();
  const byDir = await halo
    .lazy(reviews.slice(0, 2))
    .agent({
      prompt: SENTIMENT,
      choices: ["positive", "negative"],
      output: "l",
      model: shippedModelDir(),
    })
    .collectRows();
  assert.equal(byName.rows, byDir.rows);
});

test.run();
