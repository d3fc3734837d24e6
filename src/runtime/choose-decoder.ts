// Which decoder graph of a model to load, from the list of the model's files (a hub listing or a
// local folder's): the one function both the hub client (which files to download) and the loader
// (which file to open) call, so the two never disagree. The order: the dtype asked for; else the
// graph an onnxruntime-genai build names in genai_config.json; else config.json's
// transformers.js_config default; else fp32 (transformers.js's default on Node); else the one
// variant the model has. File names come from the dtype table (dtypes.ts).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import {
  DTYPES,
  dtypeOfFile,
  dtypesIn,
  externalDataFiles,
  isDtype,
  onnxCandidates,
  type Dtype,
} from "./dtypes.ts";
import { ModelFolderError } from "./model-files.ts";
import { readTransformersJsConfig } from "./transformers-js-config.ts";

export interface DecoderChoice {
  /** Undefined for an onnxruntime-genai build's own file name (its one dtype). */
  dtype?: Dtype;
  /** The graph, relative to the model folder. */
  onnxFile: string;
  /** The graph and its external data files, relative: what the hub client downloads. */
  files: string[];
  /** How the choice was made, for messages and `Model.graph.reason`. */
  reason: string;
}

/** The model has no graph in the dtype asked for; `available` says what it has. */
export class DtypeMissingError extends ModelFolderError {
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

/**
 * The decoder for `requested` (or the default) among `paths`. `label` names the model in errors;
 * `config` is config.json (its transformers.js_config block), `genaiConfig` genai_config.json.
 */
export function chooseDecoder(
  label: string,
  paths: readonly string[],
  requested: Dtype | undefined,
  config: Record<string, unknown>,
  genaiConfig?: Record<string, unknown>,
): DecoderChoice {
  if (requested !== undefined && !isDtype(requested))
    throw new ModelFolderError(
      `unknown dtype ${JSON.stringify(requested)}: use one of ${DTYPES.join(", ")}`,
    );
  const available = dtypesIn(paths);
  const genaiFile = genaiDecoderFile(genaiConfig);
  const pick = (onnxFile: string, reason: string, dtype: Dtype | undefined) => ({
    ...(dtype ? { dtype } : {}),
    onnxFile,
    files: [onnxFile, ...externalDataFiles(onnxFile, paths)],
    reason,
  });
  if (requested === undefined && genaiFile && paths.includes(genaiFile))
    return pick(genaiFile, "genai_config.json", undefined);
  const have = [...available].map(([d, file]) => `${d} (${file})`);
  if (requested) {
    const file = available.get(requested);
    if (file) return pick(file, `dtype ${requested}`, requested);
  } else {
    const preferred = readTransformersJsConfig(config).dtype;
    if (preferred && available.has(preferred))
      return pick(
        available.get(preferred)!,
        `config.json transformers.js_config.dtype ${preferred}`,
        preferred,
      );
    // a configured default that was not downloaded falls back like an unconfigured one
    if (available.has("fp32")) return pick(available.get("fp32")!, "fp32 (the default)", "fp32");
    if (available.size === 1) {
      const [[dtype, file]] = [...available];
      return pick(file!, `the only variant (${dtype})`, dtype);
    }
  }
  if (have.length === 0 && !genaiFile)
    throw new DtypeMissingError(
      `${label} has no decoder graph: missing onnx/model.onnx (transformers.js exports name it onnx/model{_dtype}.onnx; an onnxruntime-genai build names its file in genai_config.json)`,
      [],
    );
  const dtype = requested ?? "fp32";
  const why = requested
    ? ""
    : available.size > 1
      ? " (the default: none was asked for, and it holds several graphs)"
      : " (the default: none was asked for)";
  const what =
    have.length > 0
      ? `it has ${have.join(", ")}: ask for one of those with the dtype option (--dtype on the command line)`
      : genaiFile && paths.includes(genaiFile)
        ? `it is an onnxruntime-genai build (genai_config.json names ${genaiFile}, in the one dtype it was built in): leave the dtype out`
        : `its genai_config.json names ${genaiFile}, which is missing`;
  throw new DtypeMissingError(
    `${label} has no ${dtype} decoder${why} (looked for ${onnxCandidates(dtype).join(", ")}); ${what}`,
    [...available.keys()],
  );
}

/** Files of a model folder as repo paths: the top level and onnx/. */
export function folderFiles(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ["", "onnx"]) {
    const at = join(dir, sub);
    if (!existsSync(at) || !statSync(at).isDirectory()) continue;
    for (const name of readdirSync(at)) out.push(sub ? `${sub}/${name}` : name);
  }
  return out;
}

/** A JSON object file, or undefined when it is absent, unreadable or not an object. */
export function readJsonObject(path: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return v && typeof v === "object" && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The decoder of a local folder: `onnxFile` when given (a file outside the dtype table, relative
 * to the folder or absolute), else chooseDecoder over the folder's files.
 */
export function chooseFolderDecoder(
  dir: string,
  options: { dtype?: Dtype; onnxFile?: string } = {},
): DecoderChoice {
  const paths = folderFiles(dir);
  if (options.onnxFile !== undefined) {
    if (options.dtype !== undefined && !isDtype(options.dtype))
      throw new ModelFolderError(
        `unknown dtype ${JSON.stringify(options.dtype)}: use one of ${DTYPES.join(", ")}`,
      );
    const path = isAbsolute(options.onnxFile) ? options.onnxFile : resolve(dir, options.onnxFile);
    const onnxFile = relative(dir, path);
    if (!existsSync(path)) {
      const have = [...dtypesIn(paths)].map(([d, f]) => `${d} (${f})`).join(", ");
      throw new ModelFolderError(
        `onnxFile ${options.onnxFile} not found in ${dir}; it has ${have || "no onnx/model*.onnx file"}`,
      );
    }
    const siblings = folderFiles(join(path, "..")).map((f) => relative(dir, join(path, "..", f)));
    const dtype = options.dtype ?? dtypeOfFile(onnxFile);
    return {
      ...(dtype ? { dtype } : {}),
      onnxFile,
      files: [onnxFile, ...externalDataFiles(onnxFile, siblings)],
      reason: "onnxFile option",
    };
  }
  return chooseDecoderIn(dir, dir, paths, options.dtype);
}

/**
 * chooseDecoder over `paths` with the configs read from `dir` (a folder, a hub snapshot): the
 * transformers.js_config default and genai_config.json's file name come from there.
 */
export function chooseDecoderIn(
  where: string,
  dir: string,
  paths: string[],
  dtype: Dtype | undefined,
): DecoderChoice {
  return chooseDecoder(
    where,
    paths,
    dtype,
    readJsonObject(join(dir, "config.json")) ?? {},
    readJsonObject(join(dir, "genai_config.json")),
  );
}
