// Where a model comes from: a local folder or a hub id (`org/name`), with a dtype and, for the
// hub, a revision; resolved into the folder to load, the graph in it, and a string that
// identifies the weights (part of LLM node signatures, so cached results never mix models).
//
// The rule between a relative folder path and a hub id: an existing folder wins. `models/tiny`
// is the folder when ./models/tiny exists, else the hub repo `models/tiny`; `./x/y`, `../x/y`
// and absolute paths are always folders.
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { chooseFolderDecoder } from "./choose-decoder.ts";
import { DTYPES, isDtype, type Dtype } from "./dtypes.ts";
import { startDownloadProgress } from "../display/download-progress.ts";
import { isHubId, resolveHubModel, type HubResolveOptions } from "./hub/index.ts";

export interface ModelSourceSpec {
  /** A folder path or a hub id. */
  source: string;
  dtype?: Dtype;
  /** Hub only: branch, tag or commit (default "main"). */
  revision?: string;
}

export type SourceKind = { kind: "folder"; dir: string } | { kind: "hub"; repo: string };

export interface ResolvedModelSource {
  /** The folder to load (a hub snapshot: `.../snapshots/<commit>`). */
  dir: string;
  /** Undefined for an onnxruntime-genai build (its one dtype). */
  dtype?: Dtype;
  /** The decoder graph, relative to `dir`. */
  onnxFile: string;
  /** `hf:org/name@<commit>:<dtype>` or `<folder>:<dtype>`: what the weights are. */
  identity: string;
  hub?: { repo: string; revision: string; commit: string };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Folder or hub id, by the rule above; undefined when it is neither. */
export function classifySource(source: string, cwd = process.cwd()): SourceKind | undefined {
  const explicitPath = isAbsolute(source) || /^\.\.?(\/|$)/.test(source);
  const dir = resolve(cwd, source);
  if (explicitPath || isDirectory(dir))
    return isDirectory(dir) ? { kind: "folder", dir } : undefined;
  return isHubId(source) ? { kind: "hub", repo: source } : undefined;
}

/** A local folder: the graph for `dtype` (or the default) in it. Throws DtypeMissingError. */
export function resolveFolder(dir: string, dtype?: Dtype): ResolvedModelSource {
  const decoder = chooseFolderDecoder(dir, dtype ? { dtype } : {});
  return {
    dir,
    ...(decoder.dtype ? { dtype: decoder.dtype } : {}),
    onnxFile: decoder.onnxFile,
    identity: `${dir}:${decoder.dtype ?? decoder.onnxFile}`,
  };
}

export async function resolveModelSource(
  spec: ModelSourceSpec,
  options: HubResolveOptions = {},
): Promise<ResolvedModelSource> {
  const kind = classifySource(spec.source);
  if (!kind)
    throw new Error(
      `model '${spec.source}' is neither a folder nor a hub id (org/name): ${resolve(spec.source)} does not exist`,
    );
  if (kind.kind === "folder") {
    if (spec.revision !== undefined)
      throw new Error(
        `model '${spec.source}' is a local folder: a revision applies to hub ids only`,
      );
    return resolveFolder(kind.dir, spec.dtype);
  }
  const snap = await resolveHubModel(
    {
      repo: kind.repo,
      ...(spec.revision !== undefined ? { revision: spec.revision } : {}),
      ...(spec.dtype !== undefined ? { dtype: spec.dtype } : {}),
    },
    options,
  );
  return {
    dir: snap.dir,
    ...(snap.decoder.dtype ? { dtype: snap.decoder.dtype } : {}),
    onnxFile: snap.decoder.onnxFile,
    identity: `hf:${snap.repo}@${snap.commit}:${snap.decoder.dtype ?? snap.decoder.onnxFile}`,
    hub: { repo: snap.repo, revision: snap.revision, commit: snap.commit },
  };
}

/** resolveModelSource with a download bar in the notebook, or a line on the terminal. */
export async function resolveModelSourceShown(
  spec: ModelSourceSpec,
  signal?: AbortSignal,
): Promise<ResolvedModelSource> {
  const progress = startDownloadProgress(`model ${spec.source}`);
  try {
    const source = await resolveModelSource(spec, {
      onProgress: (p) => progress.update(p),
      ...(signal ? { signal } : {}),
    });
    progress.finish("done");
    return source;
  } catch (error) {
    progress.finish("failed");
    throw error;
  }
}

/** A model source from command-line values (`--model`, `--dtype`, `--revision`), checked. */
export function modelSpec(source: string, dtype?: string, revision?: string): ModelSourceSpec {
  if (dtype !== undefined && !isDtype(dtype))
    throw new Error(`--dtype must be one of ${DTYPES.join(", ")}, got '${dtype}'`);
  return {
    source,
    ...(dtype !== undefined ? { dtype } : {}),
    ...(revision !== undefined ? { revision } : {}),
  };
}
