// Dynamically quantized graphs (q8, int8, uint8): as exported, a row's logits depend on what else
// is in the batch (one activation scale per tensor); rewritten to quantize per token, only float
// noise tipping a value across a rounding boundary remains. The figures printed here are the ones
// docs/models.md quotes for the tiny fixtures.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel, type Model } from "../../src/runtime/index.ts";
import { BufferSource, FileSource, modelOperators } from "../../src/runtime/onnx-proto.ts";
import { quantizePerToken } from "../../src/runtime/per-token-quantization.ts";
import { GRAPHS, randomPrompts } from "../helpers/graph-fixtures.ts";

const prompts = randomPrompts(40, 7);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test("every DynamicQuantizeLinear is rewritten, inside a merged decoder's branches too", () => {
  for (const [file, count] of [
    ["qwen2/onnx/model_int8.onnx", 9],
    ["qwen2/onnx/model_uint8.onnx", 9],
    ["qwen2/onnx/model_quantized.onnx", 9],
    ["merged/onnx/decoder_model_merged_quantized.onnx", 18],
  ] as const) {
    const bytes = readFileSync(join(GRAPHS, file));
    const before = modelOperators(new BufferSource(bytes)).ops;
    assert.ok(before.has("DynamicQuantizeLinear"), file);
    const result = quantizePerToken(bytes);
    assert.is(result.rewritten, count, file);
    assert.is(result.kept, 0, file);
    const after = modelOperators(new BufferSource(result.bytes!)).ops;
    assert.not.ok(after.has("DynamicQuantizeLinear"), `${file}: no per-tensor quantization left`);
    assert.ok(after.has("MatMulInteger") && after.has("ReduceMax"), file);
  }
  const fp32 = readFileSync(join(GRAPHS, "qwen2/onnx/model.onnx"));
  const untouched = quantizePerToken(fp32);
  assert.is(untouched.rewritten, 0);
  assert.is(untouched.bytes, undefined, "a graph without dynamic quantization stays as it is");
  // as the loader does it: weights referenced in the original file, only the graph rewritten
  const file = join(GRAPHS, "qwen2/onnx/model_int8.onnx");
  const src = new FileSource(file);
  try {
    const inPlace = quantizePerToken(src, { dataFile: "model_int8.onnx" });
    assert.is(inPlace.rewritten, 9);
    // the 64 KiB embedding table is referenced in the file, not copied (tensors under 4 KiB are,
    // and the per-token nodes add about 3 KiB)
    const embedding = 512 * 32 * 4;
    assert.ok(inPlace.bytes!.length < statSync(file).size - embedding + 4096);
  } finally {
    src.close();
  }
});

async function batchEffect(model: Model): Promise<{ logits: number; changed: number }> {
  // a row's last logits alone vs beside the other prompts (left-padded in one call)
  let logits = 0;
  const together = await model.prefill(prompts.slice(0, 8).map((tokens) => ({ tokens })));
  for (const [i, out] of together.entries()) {
    const [alone] = await model.prefill([{ tokens: prompts[i]! }]);
    logits = Math.max(logits, maxDiff(out.logits, alone!.logits));
  }
  // how many greedy answers change when the prompts run as one batch
  const sampling = { maxTokens: 8 };
  const batched = await model.generate(prompts.map((p) => ({ promptTokens: p, sampling })));
  let changed = 0;
  for (const [i, p] of prompts.entries()) {
    const [alone] = await model.generate([{ promptTokens: p, sampling }]);
    if (JSON.stringify(alone!.tokens) !== JSON.stringify(batched[i]!.tokens)) changed++;
  }
  return { logits, changed };
}

test("as exported, batch-mates move every row; per token without padding (the default), none", async () => {
  for (const dtype of ["int8", "uint8", "q8"] as const) {
    const dir = join(GRAPHS, "qwen2");
    const asExported = await loadModel(dir, { dtype, batchInvariant: false });
    const padded = await loadModel(dir, { dtype, layout: "padded" });
    const perToken = await loadModel(dir, { dtype });
    assert.is(asExported.graph.dynamicQuantization, "per tensor (batch-dependent)");
    assert.is(asExported.layout, "padded", "batched anyway: the user accepted it");
    assert.is(perToken.graph.dynamicQuantization, "per token (rewritten)");
    assert.is(perToken.layout, "grouped");
    assert.ok(perToken.selfTestResult?.ok && padded.selfTestResult?.ok);
    assert.is.not(asExported.id, perToken.id, "different numerics, different cache namespace");
    const before = await batchEffect(asExported);
    const withPadding = await batchEffect(padded);
    const after = await batchEffect(perToken);
    assert.ok(before.logits > 0.1, `${dtype}: as exported, batching moved logits ${before.logits}`);
    // padding shifts float rounding upstream of a quantization: one quantum now and then
    assert.ok(withPadding.logits < before.logits / 4, `${dtype}: ${withPadding.logits}`);
    assert.is(after.logits, 0, `${dtype}: per token, no padding: batched equals alone exactly`);
    assert.is(after.changed, 0, `${dtype}: no greedy answer changes with batching`);
    console.log(
      `measure: ${dtype} tiny fixture, ${prompts.length} prompts, 8 greedy tokens: batching moves a row's last logits by up to ${before.logits.toFixed(3)} and changes ${before.changed} answers as exported; per token with padded batches ${withPadding.logits.toFixed(3)} and ${withPadding.changed}; per token without padding ${after.logits} and ${after.changed}`,
    );
    for (const m of [asExported, padded, perToken]) await m.dispose();
  }
});

test("a rewritten graph loads through symlinks, as huggingface_hub's snapshots link into blobs/", async () => {
  // snapshots/<commit>/onnx/model_int8.onnx -> ../../../blobs/<name>: onnxruntime resolves the
  // rewritten graph's external data (the weights in that file) and refuses a path that leaves
  // the folder it was given, so the loader must name the blob's folder.
  const repo = mkdtempSync(join(tmpdir(), "halo-snapshot-"));
  const source = resolve(GRAPHS, "qwen2");
  const blobs = join(repo, "blobs");
  const snapshot = join(repo, "snapshots", "abc123");
  mkdirSync(blobs);
  mkdirSync(join(snapshot, "onnx"), { recursive: true });
  const link = (from: string, name: string) => {
    const blob = join(blobs, `blob-${name.replaceAll("/", "-")}`);
    symlinkSync(from, blob);
    const at = join(snapshot, name);
    symlinkSync(relative(dirname(at), blob), at);
  };
  for (const f of readdirSync(source)) if (f !== "onnx") link(join(source, f), f);
  link(join(source, "onnx", "model_int8.onnx"), "onnx/model_int8.onnx");
  const linked = await loadModel(snapshot, { dtype: "int8" });
  const direct = await loadModel(source, { dtype: "int8" });
  assert.is(linked.graph.dynamicQuantization, "per token (rewritten)");
  const request = { promptTokens: prompts[0]!, sampling: { maxTokens: 6 } };
  const [a] = await linked.generate([request]);
  const [b] = await direct.generate([request]);
  assert.equal(a!.tokens, b!.tokens);
  await linked.dispose();
  await direct.dispose();
});

test.run();
