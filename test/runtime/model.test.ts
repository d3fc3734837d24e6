// The shipped model through the runtime reproduces what PyTorch computed at build time
// (models/halo-tiny/reference.json): same tokens from the same text, same greedy continuations.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { getModel, loadModel, shippedModelDir } from "../../src/runtime/index.ts";
import type { ChatMessage } from "../../src/runtime/index.ts";

interface ReferenceCase {
  task: string;
  messages: ChatMessage[] | null;
  prompt: string;
  promptTokens: number[];
  greedyTokens: number[];
  greedyText: string;
}
const reference = JSON.parse(readFileSync(join(shippedModelDir(), "reference.json"), "utf8")) as {
  maxNewTokens: number;
  cases: ReferenceCase[];
  tokenizer: { text: string; ids: number[] }[];
};

test("the tokenizer matches the Python BPE on every reference string", async () => {
  const model = await getModel();
  for (const { text, ids } of reference.tokenizer) {
    assert.equal(model.encode(text), ids, text);
    assert.is(model.decode(ids), text);
  }
  assert.is(model.decode([]), "");
});

test("encodeChat renders the ChatML template as the training data did", async () => {
  const model = await getModel();
  for (const c of reference.cases.filter((c) => c.messages)) {
    assert.is(model.tokenizer.renderChat(c.messages!), c.prompt);
    assert.equal(model.encodeChat(c.messages!), c.promptTokens);
  }
});

test("greedy generation equals the PyTorch reference exactly", async () => {
  const model = await getModel();
  const results = await model.generate(
    reference.cases.map((c) => ({
      promptTokens: c.promptTokens,
      sampling: { maxTokens: reference.maxNewTokens },
    })),
  );
  let exact = 0;
  for (const [i, r] of results.entries()) {
    const c = reference.cases[i]!;
    assert.is(r.prefillTokens, c.promptTokens.length);
    assert.is(r.cachedTokens, 0);
    if (JSON.stringify(r.tokens) === JSON.stringify(c.greedyTokens)) {
      assert.is(r.text, c.greedyText);
      exact++;
      continue;
    }
    // Only a near tie may flip between PyTorch and onnxruntime (logits differ by ~1e-6, notes
    // pitfall 8): find the first divergence and require the reference's choice to be within 1e-4.
    let k = 0;
    while (r.tokens[k] === c.greedyTokens[k]) k++;
    const [out] = await model.prefill([
      { tokens: [...c.promptTokens, ...c.greedyTokens.slice(0, k)] },
    ]);
    const mine = r.tokens[k] ?? model.config.eosTokenIds[0]!;
    const theirs = c.greedyTokens[k] ?? model.config.eosTokenIds[0]!;
    const gap = Math.abs(out!.logits[mine]! - out!.logits[theirs]!);
    assert.ok(
      gap < 1e-4,
      `${c.task}: diverges at token ${k} with a clear margin ${gap}: ${c.prompt}`,
    );
    console.log(`notice: ${c.task} case diverges at a near tie (gap ${gap.toExponential(1)})`);
  }
  assert.ok(exact >= results.length - 1, `${exact} of ${results.length} exact`);
  console.log(
    `measure: ${results.length} reference prompts, answers e.g. ${results
      .slice(0, 4)
      .map((r) => JSON.stringify(r.text))
      .join(", ")}`,
  );
});

test("config, id and cache: one Model per folder, a stable id", async () => {
  const a = await getModel();
  const b = await getModel(shippedModelDir());
  assert.is(a, b);
  assert.is(a.config.modelType, "qwen2");
  assert.is(a.config.numLayers, 4);
  assert.is(a.config.numKvHeads, 2);
  assert.is(a.config.headDim, 32);
  assert.is(a.config.vocabSize, 512);
  assert.ok(a.config.eosTokenIds.includes(a.tokenizer.idOf("<|im_end|>")!));
  assert.is(a.provider, "cpu");
  const c = await loadModel(shippedModelDir(), { selfTest: false });
  assert.is(c.id, a.id);
  assert.ok(a.id.startsWith("halo-tiny@"));
  await c.dispose();
});

test("the self-test passes: cached and padded runs equal a whole recompute", async () => {
  const model = await getModel();
  assert.ok(model.selfTestResult?.ok, JSON.stringify(model.selfTestResult));
  console.log(`measure: self-test max |diff| ${model.selfTestResult!.maxAbsDiff.toExponential(2)}`);
});

test.run();
