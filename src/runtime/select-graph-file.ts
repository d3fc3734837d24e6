// Which ONNX file of a model folder to open: an explicit file, else the dtype asked for, else the
// default transformers.js would take (config.json's transformers.js_config.dtype), else fp32, else
// the one variant the folder has, else the file an onnxruntime-genai build names. File names come
// from the one dtype table (dtypes.ts) the hub client downloads by, so the two never disagree.
import { existsSync, readdirSync, statSync } from "node:fs";
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
import { MODEL_LAYOUT, ModelFolderError, type ModelFolder } from "./model-files.ts";

export interface GraphFileOptions {
  /** fp32, fp16, q8, int8, uint8, q4, q4f16 or bnb4 (transformers.js names and file suffixes). */
  dtype?: Dtype;
  /** An ONNX file to open instead, relative to the folder (or absolute). */
  onnxFile?: string;
}

export interface GraphFile {
  path: string;
  /** Path relative to the folder, as the hub lists it. */
  rel: string;
  /** The dtype the file carries, when its name says (undefined for a genai build's own name). */
  dtype?: Dtype;
  /** External-data files beside it (`model.onnx_data`, `model.onnx_data_1`, ...), relative. */
  externalData: string[];
  /** How the choice was made, for messages. */
  reason: string;
}

/** Files of the folder and of its onnx/ subfolder, as relative paths. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ["", "onnx"]) {
    const at = join(dir, sub);
    if (!existsSync(at) || !statSync(at).isDirectory()) continue;
    for (const name of readdirSync(at)) out.push(sub ? `${sub}/${name}` : name);
  }
  return out;
}

function defaultDtype(folder: ModelFolder): string | undefined {
  const d = folder.jsConfig.dtype;
  if (typeof d === "string") return d;
  if (d && typeof d === "object") return d.model ?? d.decoder_model_merged;
  return undefined;
}

export function selectGraphFile(
  dir: string,
  folder: ModelFolder,
  options: GraphFileOptions = {},
): GraphFile {
  const files = listFiles(dir);
  const found = dtypesIn(files);
  const have = () =>
    found.size
      ? `it has ${[...found].map(([d, f]) => `${d} (${f})`).join(", ")}`
      : "it has no onnx/model*.onnx or onnx/decoder_model_merged*.onnx file";
  const make = (rel: string, reason: string, dtype?: Dtype): GraphFile => ({
    path: join(dir, rel),
    rel,
    dtype: dtype ?? dtypeOfFile(rel),
    externalData: externalDataFiles(rel, files),
    reason,
  });
  if (options.dtype !== undefined && !isDtype(options.dtype))
    throw new ModelFolderError(
      `unknown dtype ${JSON.stringify(options.dtype)}: use one of ${DTYPES.join(", ")}`,
    );
  if (options.onnxFile !== undefined) {
    const path = isAbsolute(options.onnxFile) ? options.onnxFile : resolve(dir, options.onnxFile);
    if (!existsSync(path))
      throw new ModelFolderError(`onnxFile ${options.onnxFile} not found in ${dir}; ${have()}`);
    const rel = relative(dir, path);
    const siblings = listFiles(join(path, "..")).map((f) => relative(dir, join(path, "..", f)));
    return {
      path,
      rel,
      dtype: options.dtype ?? dtypeOfFile(rel),
      externalData: externalDataFiles(rel, siblings),
      reason: "onnxFile option",
    };
  }
  if (options.dtype) {
    const file = found.get(options.dtype);
    if (!file)
      throw new ModelFolderError(
        `${dir} has no ${options.dtype} graph (looked for ${onnxCandidates(options.dtype).join(" or ")}); ${have()}`,
      );
    return make(file, `dtype ${options.dtype}`, options.dtype);
  }
  const preferred = defaultDtype(folder);
  if (isDtype(preferred) && found.has(preferred))
    return make(found.get(preferred)!, `config.json transformers.js_config.dtype ${preferred}`);
  if (found.has("fp32")) return make(found.get("fp32")!, "fp32 (the default)");
  if (found.size === 1) {
    const [[dtype, file]] = [...found];
    return make(file!, `the only variant (${dtype})`);
  }
  if (folder.genai && existsSync(join(dir, folder.genai.filename)))
    return make(folder.genai.filename, "genai_config.json");
  if (found.size > 1)
    throw new ModelFolderError(
      `${dir} holds several graphs and none is fp32: pass a dtype (${[...found.keys()].join(", ")}); ${have()}`,
    );
  throw new ModelFolderError(`missing onnx/model.onnx in ${dir}: expected ${MODEL_LAYOUT}`);
}
