// The random-weight graph fixtures (models/build/make-graph-fixtures.py): every family and dtype
// the runtime loads, all emitted from one set of weights, so qwen2's fp32 model.onnx is the exact
// twin of each (bnb4 has its own folder and twin). The weights sit on the q4 grid (bnb4's on the
// NF4 grid), so 4-bit files hold exactly their twin's weights and must match it as fp32 graphs
// do; fp16 and 8-bit files round weights or activations. Tolerances bound the largest logit
// difference to the twin measured on these fixtures (teacher-forced on the twin's greedy
// continuations of 200 prompts; logits span about -10..10): fp16 0.023, q4f16 0.027, dynamic 8-bit
// 0.85, q4 and bnb4 0.
import { fileURLToPath } from "node:url";
import type { BatchLayout, KvType, LoadOptions } from "../../src/runtime/index.ts";
import { seededRandom } from "../../src/runtime/index.ts";

export const GRAPHS = fileURLToPath(new URL("../runtime/fixtures/graphs", import.meta.url));

export interface GraphFamily {
  name: string;
  /** Folder under GRAPHS. */
  dir: string;
  options: LoadOptions;
  file: string;
  layout: BatchLayout;
  kvType: KvType;
  /** Largest allowed |logit - twin logit|; 1e-4 marks an fp32 graph that must match exactly. */
  tolerance: number;
  /** Folder of the fp32 twin when not qwen2 (bnb4's weights sit on the NF4 grid instead). */
  twin?: string;
}

const EXACT = 1e-4;
const HALF = 0.05;
const INT8 = 1.2;

export const FAMILIES: GraphFamily[] = [
  {
    name: "qwen2 fp32 (the twin)",
    dir: "qwen2",
    options: {},
    file: "onnx/model.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "qwen2 fp16, float16 KV and logits",
    dir: "qwen2",
    options: { dtype: "fp16" },
    file: "onnx/model_fp16.onnx",
    layout: "padded",
    kvType: "float16",
    tolerance: HALF,
  },
  {
    name: "qwen2 q8",
    dir: "qwen2",
    options: { dtype: "q8" },
    file: "onnx/model_quantized.onnx",
    layout: "grouped",
    kvType: "float32",
    tolerance: INT8,
  },
  {
    name: "qwen2 int8",
    dir: "qwen2",
    options: { dtype: "int8" },
    file: "onnx/model_int8.onnx",
    layout: "grouped",
    kvType: "float32",
    tolerance: INT8,
  },
  {
    name: "qwen2 uint8",
    dir: "qwen2",
    options: { dtype: "uint8" },
    file: "onnx/model_uint8.onnx",
    layout: "grouped",
    kvType: "float32",
    tolerance: INT8,
  },
  {
    name: "qwen2 q4",
    dir: "qwen2",
    options: { dtype: "q4" },
    file: "onnx/model_q4.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "qwen2 q4f16, float16 KV and logits",
    dir: "qwen2",
    options: { dtype: "q4f16" },
    file: "onnx/model_q4f16.onnx",
    layout: "padded",
    kvType: "float16",
    tolerance: HALF,
  },
  {
    name: "bnb4 (NF4, its own twin)",
    dir: "bnb4",
    options: { dtype: "bnb4" },
    file: "onnx/model_bnb4.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: EXACT,
    twin: "bnb4",
  },
  {
    name: "fp16 weights, float32 I/O",
    dir: "fp16-io32",
    options: {},
    file: "onnx/model_fp16.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: HALF,
  },
  {
    name: "GPT-2 style, no position_ids",
    dir: "gpt2-style",
    options: {},
    file: "onnx/model.onnx",
    layout: "grouped",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "merged decoder",
    dir: "merged",
    options: {},
    file: "onnx/decoder_model_merged.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "merged decoder q8",
    dir: "merged",
    options: { dtype: "q8" },
    file: "onnx/decoder_model_merged_quantized.onnx",
    layout: "grouped",
    kvType: "float32",
    tolerance: INT8,
  },
  {
    name: "num_logits_to_keep",
    dir: "logits-to-keep",
    options: {},
    file: "onnx/model.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "last-token logits only",
    dir: "last-logits",
    options: {},
    file: "onnx/model.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "genai GroupQueryAttention",
    dir: "genai-gqa",
    options: {},
    file: "model.onnx",
    layout: "contiguous",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "genai, seqlens_k and total_sequence_length inputs",
    dir: "genai-seqlens",
    options: {},
    file: "model.onnx",
    layout: "contiguous",
    kvType: "float32",
    tolerance: EXACT,
  },
  {
    name: "external data in two files",
    dir: "external-data",
    options: {},
    file: "onnx/model.onnx",
    layout: "padded",
    kvType: "float32",
    tolerance: EXACT,
  },
];

/** Seeded prompts of 3 to 22 ordinary tokens (the fixtures share halo-tiny's 512-token vocabulary; 509-511 are specials). */
export function randomPrompts(count: number, seed = 1): number[][] {
  const r = seededRandom(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: 3 + Math.floor(r() * 20) }, () => Math.floor(r() * 509)),
  );
}
