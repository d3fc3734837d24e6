// Last-position logits (last-position-logits.ts) on every graph family and dtype the runtime loads:
// which graphs are rewritten and in front of what, and that nothing a decoder reads changes: the
// last position's logits and greedy answers equal those of the graph as exported
// (`allPositionLogits: true`), batched and alone. `prefill({ allLogits })` says how to get them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keepLastPositionLogits } from "../../src/runtime/last-position-logits.ts";
import { loadModel, type Model } from "../../src/runtime/index.ts";
import { FAMILIES, GRAPHS, randomPrompts } from "../helpers/graph-fixtures.ts";
import { rejects } from "../processor/helpers/rejects.ts";

/** What each family's default load does to its logits. */
const EXPECTED: Record<string, string> = {
  "qwen2 fp32 (the twin)": "before MatMul",
  "qwen2 fp16, float16 KV and logits": "before MatMul",
  "qwen2 q8": "before DynamicQuantizeLinear",
  "qwen2 int8": "before DynamicQuantizeLinear",
  "qwen2 uint8": "before DynamicQuantizeLinear",
  "qwen2 q4": "before MatMulNBits",
  "qwen2 q4f16, float16 KV and logits": "before MatMulNBits",
  "bnb4 (NF4, its own twin)": "before MatMulBnb4",
  "fp16 weights, float32 I/O": "before MatMul",
  "GPT-2 style, no position_ids": "before MatMul",
  // the head sits inside the If's branches, or the graph keeps what it is told: left as exported
  "merged decoder": "every position",
  "merged decoder q8": "every position",
  num_logits_to_keep: "last position",
  // computes the last position only already
  "last-token logits only": "last position",
  "genai GroupQueryAttention": "before MatMul",
  "genai, seqlens_k and total_sequence_length inputs": "before MatMul",
  "external data in two files": "before MatMul",
};

const describe = (m: Model) =>
  typeof m.graph.logits === "string"
    ? m.graph.logits
    : `before ${m.graph.logits.lastPositionBefore}`;

const prompts = randomPrompts(12, 5);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test("every family: rewritten where the head allows, answers and last logits unchanged", async () => {
  assert.equal(
    FAMILIES.map((f) => f.name).sort(),
    Object.keys(EXPECTED).sort(),
    "a new family needs its expectation here",
  );
  for (const f of FAMILIES) {
    const dir = join(GRAPHS, f.dir);
    const last = await loadModel(dir, f.options);
    const all = await loadModel(dir, { ...f.options, allPositionLogits: true });
    try {
      assert.is(describe(last), EXPECTED[f.name], f.name);
      const exported = EXPECTED[f.name] === "last position" ? "last position" : "every position";
      assert.is(describe(all), exported, `${f.name}, allPositionLogits`);
      assert.is(last.layout, all.layout, `${f.name}: the self-test picks the same layout`);
      const requests = prompts.map((p) => ({ promptTokens: p, sampling: { maxTokens: 6 } }));
      const [a, b] = [await last.generate(requests), await all.generate(requests)];
      assert.equal(
        a.map((r) => r.tokens),
        b.map((r) => r.tokens),
        `${f.name}: greedy answers, batched`,
      );
      // a head's GEMM over 1 row instead of n may round differently in the last bit (4-bit kernels)
      const [pa] = await last.prefill([{ tokens: prompts[0]! }]);
      const [pb] = await all.prefill([{ tokens: prompts[0]! }]);
      assert.ok(maxDiff(pa!.logits, pb!.logits) <= 1e-5, `${f.name}: last logits`);
    } finally {
      await last.dispose();
      await all.dispose();
    }
  }
});

test("prefill's allLogits needs the graph as exported, and says so", async () => {
  const f = FAMILIES.find((x) => x.name === "qwen2 fp32 (the twin)")!;
  const dir = join(GRAPHS, f.dir);
  const last = await loadModel(dir, f.options);
  const all = await loadModel(dir, { ...f.options, allPositionLogits: true });
  try {
    await rejects(
      last.prefill([{ tokens: prompts[0]! }], { allLogits: true }),
      /allLogits.*allPositionLogits: true/,
    );
    const [r] = await all.prefill([{ tokens: prompts[0]! }], { allLogits: true });
    assert.is(r!.allLogits!.length, prompts[0]!.length * all.config.vocabSize);
  } finally {
    await last.dispose();
    await all.dispose();
  }
});

test("the rewrite: a Slice in front of the head, nothing done without a known head", () => {
  const bytes = readFileSync(join(GRAPHS, "qwen2", "onnx", "model.onnx"));
  const r = keepLastPositionLogits(bytes);
  assert.is(r.slicedBefore, "MatMul");
  const text = Buffer.from(r.bytes!).toString("latin1");
  assert.ok(text.includes("/last_position/Slice"));
  // an output of another name has no head to find
  assert.equal(keepLastPositionLogits(bytes, { logits: "scores" }), {});
  // a graph told how many positions to keep stays as it is
  const keeps = readFileSync(join(GRAPHS, "logits-to-keep", "onnx", "model.onnx"));
  assert.equal(keepLastPositionLogits(keeps), {});
  // a merged decoder's head is inside its If node's branches
  const merged = readFileSync(join(GRAPHS, "merged", "onnx", "decoder_model_merged.onnx"));
  assert.equal(keepLastPositionLogits(merged), {});
});

test.run();
