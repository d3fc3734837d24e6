// Present KV outputs of new positions only (new-kv-outputs.ts) on every graph family and dtype
// the runtime loads: which graphs are rewritten, and that nothing a decoder reads changes: greedy
// answers equal the graph's with its presents as exported (`fullKvOutputs: true`), batched, with
// rows joining and leaving, and continued from a cached prefix; decode steps write into the
// past's own buffer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { outputNewKvOnly } from "../../src/runtime/new-kv-outputs.ts";
import { hasRoom, loadModel, type Model } from "../../src/runtime/index.ts";
import { RuntimeEngine } from "../../src/processor/llm/runtime-engine.ts";
import { FAMILIES, GRAPHS, randomPrompts } from "../helpers/graph-fixtures.ts";

/** Which families' presents are a Concat of the past and the new positions (rewritten). */
const REWRITTEN: Record<string, boolean> = {
  "qwen2 fp32 (the twin)": true,
  "qwen2 fp16, float16 KV and logits": true, // through the Cast to the KV type
  "qwen2 q8": true,
  "qwen2 int8": true,
  "qwen2 uint8": true,
  "qwen2 q4": true,
  "qwen2 q4f16, float16 KV and logits": true,
  "bnb4 (NF4, its own twin)": true,
  "fp16 weights, float32 I/O": true,
  "GPT-2 style, no position_ids": true,
  // presents from an If's branches, or from GroupQueryAttention itself: as exported
  "merged decoder": false,
  "merged decoder q8": false,
  num_logits_to_keep: true,
  "last-token logits only": true,
  "genai GroupQueryAttention": false,
  "genai, seqlens_k and total_sequence_length inputs": false,
  "external data in two files": true,
};

const prompts = randomPrompts(10, 9);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test("every family: rewritten where presents are a Concat, greedy answers unchanged", async () => {
  assert.equal(
    FAMILIES.map((f) => f.name).sort(),
    Object.keys(REWRITTEN).sort(),
    "a new family needs its expectation here",
  );
  for (const f of FAMILIES) {
    const dir = join(GRAPHS, f.dir);
    const fresh = await loadModel(dir, f.options);
    const full = await loadModel(dir, { ...f.options, fullKvOutputs: true });
    try {
      const rewritten = REWRITTEN[f.name]!;
      assert.is(fresh.graph.kvOutputs, rewritten ? "new positions" : "past and new positions");
      assert.is(full.graph.kvOutputs, "past and new positions", `${f.name}, fullKvOutputs`);
      assert.is(fresh.layout, full.layout, `${f.name}: the self-test picks the same layout`);
      const requests = prompts.map((p) => ({ promptTokens: p, sampling: { maxTokens: 8 } }));
      const [a, b] = [await fresh.generate(requests), await full.generate(requests)];
      assert.equal(
        a.map((r) => r.tokens),
        b.map((r) => r.tokens),
        `${f.name}: greedy answers, batched`,
      );
    } finally {
      await fresh.dispose();
      await full.dispose();
    }
  }
});

async function pair(): Promise<[Model, Model]> {
  const dir = join(GRAPHS, "qwen2");
  return [await loadModel(dir), await loadModel(dir, { fullKvOutputs: true })];
}

test("decode steps write into the past's buffer; joins, leaves and forks give the same logits", async () => {
  const [fresh, full] = await pair();
  try {
    const engines = [new RuntimeEngine(fresh), new RuntimeEngine(full)] as const;
    let worst = 0;
    const both = async (
      step: (e: RuntimeEngine, k: number) => ReturnType<RuntimeEngine["forward"]>,
    ) => {
      const [x, y] = [await step(engines[0], 0), await step(engines[1], 1)];
      x.forEach((o, i) => (worst = Math.max(worst, maxDiff(o.logits, y[i]!.logits))));
      return [x, y] as const;
    };
    const first = await both((e) =>
      e.forward(prompts.slice(0, 3).map((tokens) => ({ past: undefined, tokens }))),
    );
    let cur = first;
    const buffer = cur[0][0]!.kv.view!.padded.keys[0];
    for (let k = 0; k < 4; k++) {
      const prev = cur;
      cur = await both((e, s) => e.forward(prev[s].map((o) => ({ tokens: [7 + k], past: o.kv }))));
    }
    const padded = cur[0][0]!.kv.view!.padded;
    assert.ok(padded.keys[0] === buffer, "four decode steps appended in place: same arrays");
    assert.is(padded.used, padded.store!.head.used, "the newest state is its buffer's head");
    // two rows join (listed out of order), then some leave, then a fork from an older state
    const more = await both((e) =>
      e.forward(prompts.slice(3, 5).map((tokens) => ({ past: undefined, tokens }))),
    );
    const joined = await both((e, s) =>
      e.forward(
        [4, 0, 2, 1, 3].map((i) => ({ tokens: [9], past: [...cur[s], ...more[s]][i]!.kv })),
      ),
    );
    // the join copied the rows once, into a buffer with room, and wrote its step there
    const joinedBuffer = joined[0][0]!.kv.view!.padded;
    assert.ok(hasRoom(joinedBuffer), "the joined batch is the head of a buffer with room");
    let run = joined;
    for (let k = 0; k < 70; k++) {
      // past the 64 columns of room: the buffer grows once
      const prev = run;
      run = await both((e, s) =>
        e.forward(prev[s].map((o) => ({ tokens: [11 + (k % 40)], past: o.kv }))),
      );
      if (k === 10)
        assert.ok(
          run[0][0]!.kv.view!.padded.keys[0] === joinedBuffer.keys[0],
          "steps after the join append to the join's buffer",
        );
    }
    assert.ok(run[0][0]!.kv.view!.padded.keys[0] !== joinedBuffer.keys[0], "grown once full");
    const left = await both((e, s) =>
      e.forward(run[s].slice(1, 3).map((o) => ({ tokens: [3], past: o.kv }))),
    );
    const forked = await both((e, s) =>
      e.forward([
        { tokens: [1, 2, 3], past: first[s][0]!.kv },
        { tokens: [4], past: left[s][0]!.kv },
      ]),
    );
    assert.ok(worst < 1e-4, `logits within 1e-4 of the exported graph's (worst ${worst})`);
    // the KV itself: a slice of a row equals the exported graph's
    const [ka, kb] = [forked[0][1]!.kv.slice(2, 9).kv, forked[1][1]!.kv.slice(2, 9).kv];
    for (let l = 0; l < ka.keys.length; l++)
      assert.ok(
        maxDiff(ka.keys[l] as Float32Array, kb.keys[l] as Float32Array) < 1e-5,
        `layer ${l}`,
      );
  } finally {
    await fresh.dispose();
    await full.dispose();
  }
});

test("the rewrite: Identity outputs of the new positions, nothing done to other forms", () => {
  const bytes = readFileSync(join(GRAPHS, "qwen2", "onnx", "model.onnx"));
  const r = outputNewKvOnly(bytes);
  assert.is(r.outputs, 4); // 2 layers, keys and values
  const text = Buffer.from(r.bytes!).toString("latin1");
  assert.ok(text.includes("present.0.key/past_and_new"));
  const merged = readFileSync(join(GRAPHS, "merged", "onnx", "decoder_model_merged.onnx"));
  assert.equal(outputNewKvOnly(merged), {});
  const gqa = readFileSync(join(GRAPHS, "genai-gqa", "model.onnx"));
  assert.equal(outputNewKvOnly(gqa), {});
});

test.run();
