// One model variant through Halo's runtime, in a process of its own so its peak RSS is its own.
// Run by realistic-bench.ts:
//   node --import tsx bench/runtime/measure-halo.ts DIR DTYPE MODE [--quick]
// `throughput`: load time (the KV self-test included), prefill and decode tokens/s by batch.
// `generate` / `generate-as-exported`: the greedy tokens and ms per generated token at batch 1
// and 8 that transformers.js is compared on (the same work, so the peak RSS compares too; the
// second runs an 8-bit dynamic graph as exported, as transformers.js does). `invariance` (8-bit
// dynamic graphs): how many greedy answers batching changes as exported, per token with padding,
// and per token without padding (the default), and what each costs per token.
import type { Dtype } from "../../src/runtime/dtypes.ts";
import { loadModel, type LoadOptions, type Model, type PaddedKv } from "../../src/runtime/index.ts";
import {
  FULL_SHAPES,
  QUICK_SHAPES,
  RESULT_PREFIX,
  benchPrompts,
  peakRssMb,
  timeMs,
  type RuntimeShapes,
} from "./workload.ts";

export interface HaloGeneration {
  /** Greedy tokens per prompt, one prompt at a time. */
  tokens: number[][];
  msPerToken: { batch1: number; batch8: number };
  /** The batch of prompts gave the same tokens as one at a time. */
  batchedEqual: boolean;
}

export interface HaloThroughput {
  loadMs: number;
  layout: string;
  graph: string;
  prefill: { batch: number; tokensPerS: number }[];
  decode: { batch: number; tokensPerS: number }[];
  /** Peak RSS of the throughput runs (batch 32 prefill logits alone: 32 x 64 x vocab x 4 bytes). */
  peakRssMb: number;
}

export interface HaloGenerate extends HaloGeneration {
  loadMs: number;
  layout: string;
  peakRssMb: number;
}

export interface InvarianceRow {
  mode: "as exported" | "per token, padded" | "per token, unpadded (default)";
  layout: string;
  /** Greedy answers that differ between the batch and one prompt at a time. */
  changed: number;
  prompts: number;
  /** Milliseconds per generated token, all prompts as one batch. */
  batchedMsPerToken: number;
}

async function generation(model: Model, s: RuntimeShapes): Promise<HaloGeneration> {
  const prompts = benchPrompts(s.genPrompts, s.genPromptLength, 99);
  const sampling = { maxTokens: s.genTokens };
  const tokens: number[][] = [];
  let produced = 0;
  const t0 = performance.now();
  for (const p of prompts) {
    const [r] = await model.generate([{ promptTokens: p, sampling }]);
    // eos counts as produced (transformers.js returns it; both stop there)
    const n = r!.tokens.length + (r!.finishReason === "eos" ? 1 : 0);
    produced += n;
    tokens.push(
      r!.finishReason === "eos" ? [...r!.tokens, model.config.eosTokenIds[0]!] : r!.tokens,
    );
  }
  const batch1 = (performance.now() - t0) / produced;
  const batch = prompts.slice(0, 8);
  const ms = await timeMs(() => model.generate(batch.map((p) => ({ promptTokens: p, sampling }))));
  const batched = await model.generate(batch.map((p) => ({ promptTokens: p, sampling })));
  const batchProduced = batched.reduce(
    (n, r) => n + r.tokens.length + (r.finishReason === "eos" ? 1 : 0),
    0,
  );
  const batchedEqual = batched.every(
    (r, i) => JSON.stringify(r.tokens) === JSON.stringify(tokens[i]!.slice(0, r.tokens.length)),
  );
  return { tokens, msPerToken: { batch1, batch8: ms / batchProduced }, batchedEqual };
}

async function throughput(dir: string, dtype: Dtype, s: RuntimeShapes): Promise<HaloThroughput> {
  const t0 = performance.now();
  const model = await loadModel(dir, { dtype });
  const loadMs = performance.now() - t0;
  const session = model.session;
  const prefill: HaloThroughput["prefill"] = [];
  for (const batch of s.batches) {
    const rows = benchPrompts(batch, s.prefillLength, batch);
    const ms = await timeMs(() => session.run(rows, session.emptyPast(batch)));
    prefill.push({ batch, tokensPerS: (batch * s.prefillLength * 1000) / ms });
  }
  const decode: HaloThroughput["decode"] = [];
  for (const batch of s.batches) {
    const rows = benchPrompts(batch, s.decodePast, 100 + batch);
    const { present } = await session.run(rows, session.emptyPast(batch));
    const ms = await timeMs(async () => {
      let state: PaddedKv = present;
      for (let step = 0; step < s.decodeSteps; step++)
        state = (
          await session.run(
            rows.map((r) => [r[step]!]),
            state,
          )
        ).present;
    });
    decode.push({ batch, tokensPerS: (batch * s.decodeSteps * 1000) / ms });
  }
  const result = { loadMs, layout: model.layout, graph: model.graph.file, prefill, decode };
  await model.dispose();
  return { ...result, peakRssMb: peakRssMb() };
}

async function generate(
  dir: string,
  options: LoadOptions,
  s: RuntimeShapes,
): Promise<HaloGenerate> {
  const t0 = performance.now();
  const model = await loadModel(dir, options);
  const loadMs = performance.now() - t0;
  const result = { loadMs, layout: model.layout, ...(await generation(model, s)) };
  await model.dispose();
  return { ...result, peakRssMb: peakRssMb() };
}

async function invariance(dir: string, dtype: Dtype, s: RuntimeShapes): Promise<InvarianceRow[]> {
  const prompts = benchPrompts(s.invariancePrompts, [8, 40], 7);
  const sampling = { maxTokens: s.genTokens };
  const modes: [InvarianceRow["mode"], LoadOptions][] = [
    ["as exported", { dtype, batchInvariant: false }],
    // forced past the self-test, which rejects padding for these graphs (load-model.ts)
    ["per token, padded", { dtype, layout: "padded", selfTest: false }],
    ["per token, unpadded (default)", { dtype }],
  ];
  const rows: InvarianceRow[] = [];
  for (const [mode, options] of modes) {
    const model = await loadModel(dir, options);
    const requests = prompts.map((p) => ({ promptTokens: p, sampling }));
    const ms = await timeMs(() => model.generate(requests));
    const batched = await model.generate(requests);
    let changed = 0;
    for (const [i, p] of prompts.entries()) {
      const [alone] = await model.generate([{ promptTokens: p, sampling }]);
      if (JSON.stringify(alone!.tokens) !== JSON.stringify(batched[i]!.tokens)) changed++;
    }
    const produced = batched.reduce(
      (n, r) => n + r.tokens.length + (r.finishReason === "eos" ? 1 : 0),
      0,
    );
    rows.push({
      mode,
      layout: model.layout,
      changed,
      prompts: prompts.length,
      batchedMsPerToken: ms / produced,
    });
    await model.dispose();
  }
  return rows;
}

const [dir, dtype, mode] = process.argv.slice(2) as [string, Dtype, string];
const shapes = process.argv.includes("--quick") ? QUICK_SHAPES : FULL_SHAPES;
const result =
  mode === "throughput"
    ? await throughput(dir, dtype, shapes)
    : mode === "generate"
      ? await generate(dir, { dtype }, shapes)
      : mode === "generate-as-exported"
        ? await generate(dir, { dtype, batchInvariant: false }, shapes)
        : mode === "invariance"
          ? await invariance(dir, dtype, shapes)
          : undefined;
if (result === undefined) throw new Error(`unknown mode ${mode}`);
console.log(RESULT_PREFIX + JSON.stringify(result));
