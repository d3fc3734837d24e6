// Which decoder graph of a model to load, from the list of the model's files (a hub listing or a
// local folder's): the dtype asked for, else the default of config.json's transformers.js_config,
// else fp32 (transformers.js's default on Node); an onnxruntime-genai build names its one graph
// in genai_config.json. The hub client downloads exactly `files`; the loader opens `onnxFile`.
import { dtypesIn, externalDataFiles, onnxCandidates, type Dtype } from "./dtypes.ts";
import { defaultDtype } from "./transformers-js-config.ts";

export interface DecoderChoice {
  /** Undefined for an onnxruntime-genai build, which comes in the one dtype it was built in. */
  dtype?: Dtype;
  /** The graph, relative to the model folder. */
  onnxFile: string;
  /** The graph and its external data files. */
  files: string[];
}

/** The model has no graph in the dtype asked for; `available` says what it has. */
export class DtypeMissingError extends Error {
  constructor(
    message: string,
    readonly available: Dtype[],
  ) {
    super(message);
    this.name = "DtypeMissingError";
  }
}

/** `model.decoder.filename` of a genai_config.json, if it names one. */
export function genaiDecoderFile(
  genaiConfig: Record<string, unknown> | undefined,
): string | undefined {
  const model = genaiConfig?.model as { decoder?: { filename?: unknown } } | undefined;
  const file = model?.decoder?.filename;
  return typeof file === "string" && file !== "" ? file : undefined;
}

export function chooseDecoder(
  label: string,
  paths: readonly string[],
  requested: Dtype | undefined,
  config: Record<string, unknown>,
  genaiConfig?: Record<string, unknown>,
): DecoderChoice {
  const available = dtypesIn(paths);
  const genaiFile = genaiDecoderFile(genaiConfig);
  if (requested === undefined && genaiFile && paths.includes(genaiFile))
    return { onnxFile: genaiFile, files: [genaiFile, ...externalDataFiles(genaiFile, paths)] };
  const dtype = requested ?? defaultDtype(config);
  const onnxFile = available.get(dtype);
  if (onnxFile)
    return { dtype, onnxFile, files: [onnxFile, ...externalDataFiles(onnxFile, paths)] };
  const have = [...available].map(([d, file]) => `${d} (${file})`);
  const why = requested ? "" : " (the default: none was asked for)";
  const what =
    have.length > 0
      ? `it has ${have.join(", ")}: ask for one of those with the dtype option (--dtype on the command line)`
      : genaiFile && paths.includes(genaiFile)
        ? `it is an onnxruntime-genai build (genai_config.json names ${genaiFile}, in the one dtype it was built in): leave the dtype out`
        : genaiFile
          ? `its genai_config.json names ${genaiFile}, which is missing`
          : `it has no decoder graph at all (expected onnx/model{_dtype}.onnx as transformers.js exports name them)`;
  throw new DtypeMissingError(
    `${label} has no ${dtype} decoder${why} (looked for ${onnxCandidates(dtype).join(", ")}); ${what}`,
    [...available.keys()],
  );
}
