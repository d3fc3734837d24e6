// The runtime benchmark on one folder (issue 4): prefill tokens/s by prompt length and batch,
// decode tokens/s by batch, and what a cached 256-token prefix saves; beside
// @huggingface/transformers' pipeline on the same folder when it is installed (transformers-js.ts).
// Medians of a few repetitions: these machines vary by 30-50% run to run (notes), so compare
// ratios within one run. The realistic shapes in several dtypes: realistic-bench.ts.
//
//   node --import tsx bench/runtime/run.ts [modelDir] [--dtype D]
import { performance } from "node:perf_hooks";
import { loadModel, seededRandom, shippedModelDir } from "../../src/runtime/index.ts";
import type { Dtype, Model, PaddedKv } from "../../src/runtime/index.ts";
import { importTransformers, transformersFolder } from "./transformers-js.ts";

export interface RuntimeBenchOptions {
  modelDir?: string;
  /** Which variant of the folder (default: what loadModel picks). */
  dtype?: Dtype;
  lengths?: number[];
  batches?: number[];
  reps?: number;
  decodeSteps?: number;
  decodePast?: number;
  compareTransformers?: boolean;
}

export interface TransformersRow {
  batch: number;
  transformersMs: number;
  haloMs: number;
  /** Generated tokens (eos included) per second of answering the batch. */
  transformersTokensPerS: number;
  haloTokensPerS: number;
}

export interface RuntimeBenchResult {
  model: string;
  provider: string;
  loadMs: number;
  prefill: { length: number; batch: number; ms: number; tokensPerS: number }[];
  decode: { batch: number; past: number; msPerStep: number; tokensPerS: number }[];
  cachedPrefix: {
    prefix: number;
    suffix: number;
    batch: number;
    fullMs: number;
    cachedMs: number;
    speedup: number;
  };
  transformers?:
    | {
        rows: TransformersRow[];
        note: string;
      }
    | { skipped: string };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function randomTokens(model: Model, n: number, seed: number): number[] {
  const r = seededRandom(seed);
  // ordinary tokens only: below the specials at the top of the vocabulary
  const top = Math.min(...model.config.eosTokenIds, model.config.padTokenId);
  return Array.from({ length: n }, () => Math.floor(r() * top));
}

async function timeIt(reps: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: first calls allocate arenas
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

export async function runRuntimeBench(
  options: RuntimeBenchOptions = {},
): Promise<RuntimeBenchResult> {
  const dir = options.modelDir ?? shippedModelDir();
  const lengths = options.lengths ?? [32, 128, 512];
  const batches = options.batches ?? [1, 8, 32];
  const reps = options.reps ?? 3;
  const t0 = performance.now();
  const model = await loadModel(dir, {
    selfTest: false,
    ...(options.dtype ? { dtype: options.dtype } : {}),
  });
  const loadMs = performance.now() - t0;
  const session = model.session;

  const prefill: RuntimeBenchResult["prefill"] = [];
  for (const length of lengths) {
    for (const batch of batches) {
      const rows = Array.from({ length: batch }, (_, i) => randomTokens(model, length, i + 1));
      const ms = await timeIt(reps, () => session.run(rows, session.emptyPast(batch)));
      prefill.push({ length, batch, ms, tokensPerS: (length * batch * 1000) / ms });
    }
  }

  const steps = options.decodeSteps ?? 16;
  const past = options.decodePast ?? 128;
  const decode: RuntimeBenchResult["decode"] = [];
  for (const batch of batches) {
    const rows = Array.from({ length: batch }, (_, i) => randomTokens(model, past, 100 + i));
    const { present } = await session.run(rows, session.emptyPast(batch));
    const ms = await timeIt(reps, async () => {
      let state: PaddedKv = present;
      for (let s = 0; s < steps; s++) {
        const out = await session.run(
          rows.map((r) => [r[s]!]),
          state,
        );
        state = out.present;
      }
    });
    decode.push({ batch, past, msPerStep: ms / steps, tokensPerS: (batch * steps * 1000) / ms });
  }

  const prefixLen = 256;
  const suffixLen = 32;
  const cpBatch = 8;
  const prefixTokens = randomTokens(model, prefixLen, 7);
  const suffixes = Array.from({ length: cpBatch }, (_, i) =>
    randomTokens(model, suffixLen, 200 + i),
  );
  const [prefixOut] = await model.prefill([{ tokens: prefixTokens }]);
  const fullMs = await timeIt(reps, () =>
    model.prefill(suffixes.map((s) => ({ tokens: [...prefixTokens, ...s] }))),
  );
  const cachedMs = await timeIt(reps, () =>
    model.prefill(suffixes.map((s) => ({ tokens: s, past: prefixOut!.kv }))),
  );

  const result: RuntimeBenchResult = {
    model: model.id,
    provider: model.provider,
    loadMs,
    prefill,
    decode,
    cachedPrefix: {
      prefix: prefixLen,
      suffix: suffixLen,
      batch: cpBatch,
      fullMs,
      cachedMs,
      speedup: fullMs / cachedMs,
    },
  };
  if (options.compareTransformers !== false)
    result.transformers = await benchTransformers(model, dir, reps, options.dtype ?? "fp32");
  await model.dispose();
  return result;
}

/** transformers.js text-generation on the same folder, greedy: one prompt and a batch of 8. */
async function benchTransformers(
  model: Model,
  dir: string,
  reps: number,
  dtype: Dtype,
): Promise<RuntimeBenchResult["transformers"]> {
  const folder = transformersFolder();
  if (!folder)
    return {
      skipped:
        "@huggingface/transformers is not installed: halo bench runtime --realistic --install-transformers installs it",
    };
  const tf = await importTransformers(folder);
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = "";
  const generator = await tf.pipeline("text-generation", dir, { dtype, device: "cpu" });
  generator.tokenizer.padding_side = "left";
  const reviews = [
    "I love this kettle. The design stands out.",
    "Terrible toaster, it broke after a week.",
    "The scarf is fine, nothing special.",
    "Great laptop, works perfectly. Highly recommend this laptop.",
    "Awful kite, the material fell apart.",
    "It is an average puzzle.",
    "The yoga mat arrived broken and the smell is bad.",
    "Five stars, the sound is perfect.",
  ];
  const prompts = reviews.map((r) =>
    model.tokenizer.renderChat([
      { role: "user", content: `Summarize the review in a few words.\nReview: ${r}` },
    ]),
  );
  const newTokens = 16;
  // both stop each row at eos (same greedy answers), so time to answer the same requests compares
  const opts = { max_new_tokens: newTokens, do_sample: false };
  const rows: TransformersRow[] = [];
  for (const batch of [1, 8]) {
    const input = batch === 1 ? prompts[0] : prompts.slice(0, batch);
    const tfMs = await timeIt(reps, () => generator(input, opts));
    let produced = 0;
    const ours = await timeIt(reps, async () => {
      const out = await model.generate(
        prompts
          .slice(0, batch)
          .map((p) => ({ promptTokens: model.encode(p), sampling: { maxTokens: newTokens } })),
      );
      produced = out.reduce((n, r) => n + r.tokens.length + (r.finishReason === "eos" ? 1 : 0), 0);
    });
    rows.push({
      batch,
      transformersMs: tfMs,
      haloMs: ours,
      transformersTokensPerS: (produced * 1000) / tfMs,
      haloTokensPerS: (produced * 1000) / ours,
    });
  }
  await generator.dispose?.();
  return {
    rows,
    note: `greedy summaries, at most ${newTokens} new tokens, each row stops at eos in both; tokens counted from Halo's answers`,
  };
}

export function formatRuntimeBench(r: RuntimeBenchResult): string {
  const lines = [`runtime bench: ${r.model} on ${r.provider}, load ${r.loadMs.toFixed(0)} ms`, ""];
  lines.push(
    "prefill tokens/s   " + [...new Set(r.prefill.map((p) => `batch ${p.batch}`))].join("  "),
  );
  for (const length of [...new Set(r.prefill.map((p) => p.length))]) {
    const cells = r.prefill
      .filter((p) => p.length === length)
      .map((p) => p.tokensPerS.toFixed(0).padStart(8));
    lines.push(`  length ${String(length).padEnd(9)}${cells.join("")}`);
  }
  lines.push("", "decode (past " + r.decode[0]?.past + ")");
  for (const d of r.decode)
    lines.push(
      `  batch ${String(d.batch).padEnd(4)} ${d.msPerStep.toFixed(2)} ms/step  ${d.tokensPerS.toFixed(0)} tokens/s`,
    );
  const c = r.cachedPrefix;
  lines.push(
    "",
    `cached ${c.prefix}-token prefix, ${c.batch} x ${c.suffix}-token suffixes: full ${c.fullMs.toFixed(1)} ms, cached ${c.cachedMs.toFixed(1)} ms (${c.speedup.toFixed(1)}x)`,
  );
  if (r.transformers) {
    if ("skipped" in r.transformers)
      lines.push("", `transformers.js: skipped (${r.transformers.skipped})`);
    else {
      lines.push("", "generation            transformers.js          Halo runtime");
      for (const row of r.transformers.rows)
        lines.push(
          `  batch ${String(row.batch).padEnd(4)} ${row.transformersMs.toFixed(1).padStart(8)} ms ${row.transformersTokensPerS.toFixed(0).padStart(5)} tok/s ${row.haloMs.toFixed(1).padStart(8)} ms ${row.haloTokensPerS.toFixed(0).padStart(5)} tok/s`,
        );
      lines.push(`  (${r.transformers.note})`);
    }
  }
  return lines.join("\n");
}
