// Every graph family and dtype the runtime loads (test/helpers/graph-fixtures.ts), against the fp32
// twin of the same weights: the file each option picks, its KV type kept end to end, the layout
// its self-test proves, greedy tokens equal to the twin's (exactly for fp32 graphs; for fp16,
// 8-bit and 4-bit on steps with a clear margin, logits within the measured tolerance), and
// batched generation equal to one prompt at a time.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel, type GenerateResult, type Model } from "../../src/runtime/index.ts";
import { FAMILIES, GRAPHS, randomPrompts, type GraphFamily } from "../helpers/graph-fixtures.ts";

const prompts = randomPrompts(40);
const NEW_TOKENS = 8;
// Random weights put many steps near a tie (the top two of 512 logits spread over about 3 units
// differ by about 0.8): the twin comparison looks at more prompts and shorter continuations, so
// enough of them have a clear margin at every step.
const twinPrompts = randomPrompts(200, 3);
const TWIN_TOKENS = 4;
const models = new Map<string, Model>();

async function load(f: GraphFamily): Promise<Model> {
  let m = models.get(f.name);
  if (!m) {
    m = await loadModel(join(GRAPHS, f.dir), f.options);
    models.set(f.name, m);
  }
  return m;
}

const generate = (m: Model, ps: number[][], maxTokens = NEW_TOKENS) =>
  m.generate(ps.map((p) => ({ promptTokens: p, sampling: { maxTokens } })));

/** Logits after every token of prompt + continuation, at the continuation's steps: [steps, vocab]. */
async function stepLogits(
  m: Model,
  prompt: number[],
  continuation: number[],
): Promise<Float32Array> {
  const v = m.config.vocabSize;
  if (m.session.signature.lastLogitsOnly) {
    // one prefill per step: the graph gives the last position only
    const out = new Float32Array((continuation.length + 1) * v);
    for (let i = 0; i <= continuation.length; i++) {
      const [r] = await m.prefill([{ tokens: [...prompt, ...continuation.slice(0, i)] }]);
      out.set(r!.logits, i * v);
    }
    return out;
  }
  const [r] = await m.prefill([{ tokens: [...prompt, ...continuation] }], { allLogits: true });
  return r!.allLogits!.slice((prompt.length - 1) * v);
}

function margin(row: Float32Array): number {
  let a = -Infinity;
  let b = -Infinity;
  for (const x of row) {
    if (x > a) {
      b = a;
      a = x;
    } else if (x > b) b = x;
  }
  return a - b;
}

test("each family loads the file its options name, keeps its KV type and gets a proven layout", async () => {
  for (const f of FAMILIES) {
    const m = await load(f);
    assert.is(m.graph.file, f.file, f.name);
    assert.is(m.graph.kvType, f.kvType, f.name);
    assert.is(m.layout, f.layout, f.name);
    assert.ok(m.selfTestResult?.ok, `${f.name}: self-test ${JSON.stringify(m.selfTestResult)}`);
    const [out] = await m.prefill([{ tokens: prompts[0]! }]);
    const kv = out!.kv;
    const Buffer = f.kvType === "float16" ? Uint16Array : Float32Array;
    assert.instance(kv.keys[0], Buffer, `${f.name}: KV buffers keep the graph's element type`);
    const bytesPerValue = f.kvType === "float16" ? 2 : 4;
    assert.is(kv.byteSize, 2 * 2 * 2 * 16 * bytesPerValue * kv.length, f.name);
  }
  // what the self-test saw in layouts it rejected: whole logits off, not rounding
  const gpt2 = models.get("GPT-2 style, no position_ids")!.selfTestResult!;
  assert.equal(
    gpt2.tried.map((t) => t.layout),
    ["padded", "contiguous", "grouped"],
  );
  assert.ok(gpt2.tried[0]!.maxAbsDiff > 0.1 && gpt2.tried[1]!.maxAbsDiff > 0.1);
  const genai = models.get("genai GroupQueryAttention")!;
  assert.is(genai.session.signature.positionIds, undefined);
  assert.is(genai.config.eosTokenIds.join(","), "511,509", "eos ids from genai_config.json");
  console.log(
    `measure: self-test rejected layouts for GPT-2 style: ${gpt2.tried.map((t) => `${t.layout} ${t.maxAbsDiff.toExponential(1)}`).join(", ")}`,
  );
});

test("greedy outputs equal the fp32 twin's (fp16/8-bit/4-bit: on clear margins, logits within tolerance)", async () => {
  // each twin's greedy continuations and the logits along them, computed once
  const twins = new Map<string, { ref: GenerateResult[]; logits: Float32Array[] }>();
  const twinOf = async (dir: string) => {
    let t = twins.get(dir);
    if (!t) {
      const twin = await load({ ...FAMILIES[0]!, name: `twin ${dir}`, dir });
      const ref = await generate(twin, twinPrompts, TWIN_TOKENS);
      const logits = await Promise.all(
        twinPrompts.map((p, i) => stepLogits(twin, p, ref[i]!.tokens)),
      );
      t = { ref, logits };
      twins.set(dir, t);
    }
    return t;
  };
  const v = 512;
  for (const f of FAMILIES.slice(1)) {
    const m = await load(f);
    const { ref, logits: refLogits } = await twinOf(f.twin ?? "qwen2");
    const got = await generate(m, twinPrompts, TWIN_TOKENS);
    let worst = 0;
    let clear = 0;
    for (const [i, p] of twinPrompts.entries()) {
      const mine = await stepLogits(m, p, ref[i]!.tokens);
      const theirs = refLogits[i]!;
      let diff = 0;
      for (let k = 0; k < theirs.length; k++)
        diff = Math.max(diff, Math.abs(mine[k]! - theirs[k]!));
      worst = Math.max(worst, diff);
      let steps = Infinity;
      for (let s = 0; s < theirs.length / v; s++)
        steps = Math.min(steps, margin(theirs.subarray(s * v, (s + 1) * v)));
      // the same tokens wherever every step's margin is over twice this prompt's measured
      // deviation: no step was close enough to a tie to flip
      if (steps > 2 * diff) {
        clear++;
        assert.equal(got[i]!.tokens, ref[i]!.tokens, `${f.name}: prompt ${i}`);
      }
    }
    assert.ok(worst <= f.tolerance, `${f.name}: logits off the twin by ${worst}`);
    assert.ok(clear >= 5, `${f.name}: only ${clear} prompts with a clear margin`);
    console.log(
      `measure: ${f.name}: max |logit - twin| ${worst.toExponential(2)} (tolerance ${f.tolerance}), same greedy tokens on all ${clear} clear-margin prompts of ${twinPrompts.length}`,
    );
  }
});

test("batched generation equals one prompt at a time, for every family", async () => {
  for (const f of FAMILIES) {
    const m = await load(f);
    const batched = await generate(m, prompts);
    for (const [i, p] of prompts.entries()) {
      const [alone] = await generate(m, [p]);
      assert.equal(batched[i]!.tokens, alone!.tokens, `${f.name}: prompt ${i}`);
    }
    // continuations of several rows on pasts of different lengths, in one call, equal each alone
    const firsts = await m.prefill(prompts.slice(0, 6).map((tokens) => ({ tokens })));
    const nexts = prompts.slice(6, 12).map((p) => p.slice(0, 1 + (p.length % 3)));
    const joint = await m.prefill(firsts.map((o, i) => ({ tokens: nexts[i]!, past: o.kv })));
    // (float16 graphs round differently at another batch size: the self-test's tolerance)
    const tolerance = m.selfTestResult!.tolerance;
    for (const [i, o] of firsts.entries()) {
      const [alone] = await m.prefill([{ tokens: nexts[i]!, past: o.kv }]);
      for (let k = 0; k < alone!.logits.length; k++)
        assert.ok(
          Math.abs(alone!.logits[k]! - joint[i]!.logits[k]!) <= tolerance,
          `${f.name}: continuation ${i} logit ${k}`,
        );
    }
  }
});

test.after(async () => {
  for (const m of models.values()) await m.dispose();
});
test.run();
