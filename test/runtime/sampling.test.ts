// Sampling on the shipped model: constrained choices always land on a choice, stop strings stop,
// a seed makes sampling repeatable, maxTokens bounds the output, an abort stops generation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { argmax, ChoiceTrie, getModel, sampleToken } from "../../src/runtime/index.ts";
import type { Model } from "../../src/runtime/index.ts";

function chat(model: Model, content: string): number[] {
  return model.encodeChat([{ role: "user", content }]);
}

const PROMPTS = [
  "Classify the sentiment of this review as positive, negative or neutral.\nReview: I love this kettle.",
  "Classify the sentiment of this review as positive, negative or neutral.\nReview: Awful lamp.",
  "Which category does this product belong to? Answer with one of: electronics, kitchen, clothing, books, toys, sports, garden, beauty.\nProduct: Acme blender",
  "Extract the city from this record.\nRecord: name: Bo Kim; city: Oslo",
  "Tell me a story about dragons.",
];

test("constrained choices always return one of the choices", async () => {
  const model = await getModel();
  const choiceSets = [
    ["positive", "negative", "neutral"],
    ["yes", "no"],
    ["pos", "positive", "kitchen appliance"],
    ["electronics", "kitchen", "clothing", "books", "toys", "sports", "garden", "beauty"],
  ];
  for (const choices of choiceSets) {
    const results = await model.generate(
      PROMPTS.map((p) => ({ promptTokens: chat(model, p), sampling: { maxTokens: 1, choices } })),
    );
    for (const r of results) {
      assert.ok(choices.includes(r.text), `${JSON.stringify(r.text)} not in ${choices}`);
      assert.is(r.finishReason, "choice");
      assert.is(model.decode(r.tokens), r.text);
    }
    // sampled too
    const sampled = await model.generate(
      PROMPTS.map((p, i) => ({
        promptTokens: chat(model, p),
        sampling: { maxTokens: 4, choices, temperature: 1.5, seed: i },
      })),
    );
    for (const r of sampled) assert.ok(choices.includes(r.text), r.text);
  }
  const [sentiment] = await model.generate([
    { promptTokens: chat(model, PROMPTS[0]!), sampling: { maxTokens: 4, choices: choiceSets[0]! } },
  ]);
  console.log(`measure: constrained sentiment of "I love this kettle." -> ${sentiment!.text}`);
});

test("choice trie: only prefixes of a choice are allowed", () => {
  const trie = new ChoiceTrie(["ab", "abc", "b"], (t) => [...t].map((c) => c.charCodeAt(0)));
  const cur = trie.start();
  assert.equal(cur.allowed().sort(), [97, 98]);
  cur.advance(97);
  assert.equal(cur.allowed(), [98]);
  assert.throws(() => cur.advance(99), /not allowed/);
  cur.advance(98);
  assert.is(cur.complete, "ab");
  assert.not.ok(cur.finished);
  cur.advance(99);
  assert.ok(cur.finished);
  assert.throws(() => new ChoiceTrie([], () => []), /at least one/);
});

test("stop strings stop before the stop text", async () => {
  const model = await getModel();
  // the prompt whose free greedy answer is longest gives a stop string from its middle
  const prompts = [
    chat(
      model,
      "Merge these summaries into one sentence.\nSummaries: Praises the battery. | Complains about the price.",
    ),
    chat(
      model,
      "Summarize the review in a few words.\nReview: I love this kettle. The design stands out.",
    ),
    model.encode("The blender is excellent and"),
    ...PROMPTS.map((p) => chat(model, p)),
  ];
  const free = await model.generate(
    prompts.map((promptTokens) => ({ promptTokens, sampling: { maxTokens: 24 } })),
  );
  const best = free.reduce((a, r, i) => (r.text.length > free[a]!.text.length ? i : a), 0);
  const text = free[best]!.text;
  assert.ok(text.length >= 4, `need some free text, got ${JSON.stringify(text)}`);
  const stop = text.slice(2, 4);
  const cut = text.indexOf(stop);
  const [stopped] = await model.generate([
    { promptTokens: prompts[best]!, sampling: { maxTokens: 24, stop: [stop, "\u0000never"] } },
  ]);
  assert.is(stopped!.finishReason, "stop");
  assert.is(stopped!.text, text.slice(0, cut));
  assert.ok(stopped!.tokens.length < free[best]!.tokens.length);
});

test("maxTokens bounds the output", async () => {
  const model = await getModel();
  const [r] = await model.generate([
    { promptTokens: model.encode("The"), sampling: { maxTokens: 3 } },
  ]);
  assert.ok(r!.tokens.length <= 3);
  if (r!.finishReason === "length") assert.is(r!.tokens.length, 3);
});

test("a seed makes sampling repeatable", async () => {
  const model = await getModel();
  // a raw, out-of-template prompt at a high temperature: many tokens have real probability
  const promptTokens = model.encode("The blender");
  const run = (seed: number) =>
    model.generate([
      { promptTokens, sampling: { maxTokens: 16, temperature: 2, topP: 0.98, seed } },
    ]);
  const [a] = await run(42);
  const [b] = await run(42);
  assert.equal(a!.tokens, b!.tokens);
  const others = await Promise.all([1, 2, 3, 4, 5].map((s) => run(s)));
  const distinct = new Set([a, ...others.map((o) => o[0])].map((r) => JSON.stringify(r!.tokens)));
  assert.ok(distinct.size > 1, "different seeds sample differently");
});

test("bad sampling options and an aborted signal fail clearly", async () => {
  const model = await getModel();
  const promptTokens = model.encode("The");
  try {
    await model.generate([{ promptTokens, sampling: { maxTokens: 0 } }]);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /maxTokens must be a positive integer/);
  }
  try {
    await model.generate([{ promptTokens: [999999], sampling: { maxTokens: 2 } }]);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /outside the vocabulary/);
  }
  const controller = new AbortController();
  controller.abort(new Error("interrupted"));
  try {
    await model.generate([{ promptTokens, sampling: { maxTokens: 4 } }], {
      signal: controller.signal,
    });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /interrupted/);
  }
});

test("an allowed id past the model's logits (a tokenizer id beyond vocab_size) is never chosen", () => {
  const logits = new Float32Array([0.5, 2, 1]);
  assert.is(argmax(logits, [7, 2, 0]), 2);
  assert.is(argmax(logits, [7, 1]), 1);
  for (let i = 0; i < 20; i++) assert.ok(sampleToken(logits, 1, 1, Math.random, [9, 0, 2]) < 3);
});

test.run();
