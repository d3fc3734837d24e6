// The same model variant through transformers.js 4.x (`@huggingface/transformers`), in a process of
// its own: load time, the greedy tokens of the prompts measure-halo.ts generates, ms per generated
// token at batch 1 and 8, peak RSS. transformers.js is not a project dependency (474 MB): it is
// installed on demand into a bench-only folder (transformers-js.ts).
//   node --import tsx bench/runtime/measure-transformers.ts DIR DTYPE TRANSFORMERS_DIR [--quick]
import { importTransformers } from "./transformers-js.ts";
import {
  FULL_SHAPES,
  QUICK_SHAPES,
  RESULT_PREFIX,
  benchPrompts,
  peakRssMb,
  timeMs,
} from "./workload.ts";

export interface TransformersMeasure {
  loadMs: number;
  tokens: number[][];
  msPerToken: { batch1: number; batch8: number };
  peakRssMb: number;
}

const [dir, dtype, folder] = process.argv.slice(2) as [string, string, string];
const s = process.argv.includes("--quick") ? QUICK_SHAPES : FULL_SHAPES;
const tf = await importTransformers(folder);
tf.env.allowRemoteModels = false;
tf.env.localModelPath = "";
const t0 = performance.now();
const model = await tf.AutoModelForCausalLM.from_pretrained(dir, {
  dtype,
  device: "cpu",
  local_files_only: true,
});
const loadMs = performance.now() - t0;
const prompts = benchPrompts(s.genPrompts, s.genPromptLength, 99);
const generate = (rows: number[][]) => {
  const b = rows.length;
  const l = rows[0]!.length; // equal lengths: no padding on either side
  return model.generate({
    input_ids: new tf.Tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [b, l]),
    attention_mask: new tf.Tensor("int64", new BigInt64Array(b * l).fill(1n), [b, l]),
    max_new_tokens: s.genTokens,
    do_sample: false,
  });
};
/** New tokens per row, up to and including eos (transformers.js pads finished rows after it). */
const eos = new Set<number>(
  [model.generation_config?.eos_token_id ?? model.config.eos_token_id].flat(),
);
const newTokens = (out: any, rows: number[][]) => {
  const width = out.dims[1] as number;
  return rows.map((r, i) => {
    const all = Array.from(out.data.slice(i * width + r.length, (i + 1) * width), Number);
    const at = all.findIndex((t) => eos.has(t));
    return at < 0 ? all : all.slice(0, at + 1);
  });
};
const tokens: number[][] = [];
const t1 = performance.now();
for (const p of prompts) tokens.push(newTokens(await generate([p]), [p])[0]!);
const batch1 = (performance.now() - t1) / tokens.reduce((n, t) => n + t.length, 0);
const batch = prompts.slice(0, 8);
const ms = await timeMs(() => generate(batch));
const produced = newTokens(await generate(batch), batch).reduce((n, t) => n + t.length, 0);
const result: TransformersMeasure = {
  loadMs,
  tokens,
  msPerToken: { batch1, batch8: ms / produced },
  peakRssMb: peakRssMb(),
};
await model.dispose?.();
console.log(RESULT_PREFIX + JSON.stringify(result));
