// The one table from a model dtype to the ONNX file names that carry it, following the file-name
// conventions of transformers.js (`onnx/model{suffix}.onnx`, older exports
// `onnx/decoder_model_merged{suffix}.onnx`). Both the hub client (which files to download) and the
// loader (which file of a local folder to open) read it, so they can never disagree.

/** The dtypes a model repository may ship, by the names transformers.js users pass. */
export const DTYPES = ["fp32", "fp16", "q8", "int8", "uint8", "q4", "q4f16", "bnb4"] as const;
export type Dtype = (typeof DTYPES)[number];

/** File-name suffix of each dtype (transformers.js `DEFAULT_DTYPE_SUFFIX_MAPPING`). */
export const DTYPE_SUFFIX: Readonly<Record<Dtype, string>> = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
};

/** Base names of a decoder graph, newest convention first. */
export const DECODER_BASE_NAMES = ["model", "decoder_model_merged"] as const;

export function isDtype(value: unknown): value is Dtype {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}

/** Paths under the model folder that may hold the decoder for `dtype`, in preference order. */
export function onnxCandidates(dtype: Dtype): string[] {
  return DECODER_BASE_NAMES.map((base) => `onnx/${base}${DTYPE_SUFFIX[dtype]}.onnx`);
}

/**
 * The dtypes present in a list of repository paths (a hub file list or a folder listing), each
 * with the decoder file that carries it.
 */
export function dtypesIn(paths: readonly string[]): Map<Dtype, string> {
  const have = new Set(paths);
  const found = new Map<Dtype, string>();
  for (const dtype of DTYPES) {
    const file = onnxCandidates(dtype).find((p) => have.has(p));
    if (file) found.set(dtype, file);
  }
  return found;
}

/**
 * External-data files that belong to `onnxPath` in a listing: `model.onnx_data`,
 * `model.onnx_data_1`, ... (weights past 2 GB are split into numbered chunks), and
 * `model.onnx.data` as onnxruntime-genai's model builder names it.
 */
export function externalDataFiles(onnxPath: string, paths: readonly string[]): string[] {
  return paths
    .filter(
      (p) => p.startsWith(onnxPath) && /^(_data(_\d+)?|\.data)$/.test(p.slice(onnxPath.length)),
    )
    .sort();
}

/** The dtype a decoder file name carries (`onnx/model_q4.onnx` -> q4), when it follows the table. */
export function dtypeOfFile(path: string): Dtype | undefined {
  const name = path.split("/").pop()!;
  for (const base of DECODER_BASE_NAMES)
    for (const dtype of DTYPES) if (name === `${base}${DTYPE_SUFFIX[dtype]}.onnx`) return dtype;
  return undefined;
}
