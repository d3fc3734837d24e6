// The `transformers.js_config` block some repos put in config.json (onnx-community exports):
// the dtype transformers.js loads when the user names none, the KV cache dtype per model dtype,
// and whether weights sit in external data files. Read here once, for the hub client (which
// files to download) and the loader (what to open and how to feed it).
//   "transformers.js_config": { "dtype": "q4" | { "model": "q4", ... },
//                               "kv_cache_dtype": { "fp16": "float16", "q4f16": "float16" },
//                               "use_external_data_format": true | { "model.onnx": 1 } }
import { DECODER_BASE_NAMES, isDtype, type Dtype } from "./dtypes.ts";

export interface TransformersJsConfig {
  /** The decoder's default dtype, when the block names one transformers.js knows. */
  dtype?: Dtype;
  /** KV cache element type by model dtype ("float16", "float32"), or one for all. */
  kvCacheDtype?: string | Partial<Record<Dtype, string>>;
  useExternalDataFormat?: unknown;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function readTransformersJsConfig(config: Record<string, unknown>): TransformersJsConfig {
  const block = asRecord(config["transformers.js_config"]);
  if (!block) return {};
  const out: TransformersJsConfig = {};
  // A per-file map names the decoder by its base name ("model", or "decoder_model_merged").
  const dtypes = asRecord(block.dtype);
  const dtype = dtypes ? DECODER_BASE_NAMES.map((b) => dtypes[b]).find(isDtype) : block.dtype;
  if (isDtype(dtype)) out.dtype = dtype;
  const kv = block.kv_cache_dtype;
  if (typeof kv === "string") out.kvCacheDtype = kv;
  else if (asRecord(kv)) {
    const map: Partial<Record<Dtype, string>> = {};
    for (const [k, v] of Object.entries(kv as Record<string, unknown>))
      if (isDtype(k) && typeof v === "string") map[k] = v;
    out.kvCacheDtype = map;
  }
  if (block.use_external_data_format !== undefined)
    out.useExternalDataFormat = block.use_external_data_format;
  return out;
}
