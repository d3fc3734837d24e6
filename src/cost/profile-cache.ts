// Profiles on disk: `$HALO_CACHE_DIR/profiles/` (default `~/.cache/halo/profiles/`), one JSON file
// per model id + execution provider + model-file hash. `getProfile` calibrates the first time a
// model is seen on this machine (a few seconds on the shipped model) and reads the file after;
// a changed model file changes the hash, so the stale profile is replaced, never reused.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join, resolve } from "node:path";
import { haloCacheDir } from "../cache-dir.ts";
import type { BenchTarget } from "./bench-target.ts";
import { calibrate, type CalibrateOptions } from "./calibrate.ts";
import { hashModelFiles } from "./model-hash.ts";
import { modelFiles, openOnnxTarget, type OnnxTargetOptions } from "./onnx-bench-target.ts";
import { parseProfile, type Profile } from "./profile.ts";

export function profileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return haloCacheDir("profiles", env);
}

/** File name stem shared by every version of one model's profile on one provider. */
function stem(modelId: string, provider: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
  return `${safe(modelId)}--${safe(provider)}--`;
}

export function profilePath(dir: string, modelId: string, provider: string, hash: string): string {
  return join(dir, `${stem(modelId, provider)}${hash.slice(0, 16)}.json`);
}

/** The cached profile for exactly this model content, or undefined (missing, stale, unreadable). */
export function readCachedProfile(
  dir: string,
  modelId: string,
  provider: string,
  hash: string,
): Profile | undefined {
  const path = profilePath(dir, modelId, provider, hash);
  if (!existsSync(path)) return undefined;
  try {
    const p = parseProfile(readFileSync(path, "utf8"), path);
    return p.modelHash === hash ? p : undefined;
  } catch {
    return undefined; // an unreadable or old-version file is recalibrated and overwritten
  }
}

/** Writes atomically (temp file + rename) and removes this model's profiles for other hashes. */
export function writeProfile(dir: string, profile: Profile): string {
  mkdirSync(dir, { recursive: true });
  const path = profilePath(dir, profile.modelId, profile.provider, profile.modelHash);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(profile, null, 2)}\n`);
  renameSync(tmp, path);
  const prefix = stem(profile.modelId, profile.provider);
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix) && name.endsWith(".json") && join(dir, name) !== path) {
      rmSync(join(dir, name), { force: true });
    }
  }
  return path;
}

export interface GetProfileOptions extends CalibrateOptions {
  /** Default: profileCacheDir(). */
  cacheDir?: string;
  /** Profile key; default: the target's (the folder name for an ONNX folder). */
  modelId?: string;
  /** How to open the model for calibration; default: onnxruntime on the folder. */
  openTarget?: (dir: string) => Promise<BenchTarget>;
  onnx?: OnnxTargetOptions;
  /** Calibrate even if a cached profile exists. */
  refresh?: boolean;
}

export interface ProfileSubject {
  /** The model folder (config.json, onnx/model.onnx). */
  dir: string;
  /** The runtime's model id, when known (Model.id). */
  id?: string;
}

/**
 * The profile of a model folder: from the cache when its files are unchanged, else calibrated
 * now and cached. Hashing needs the file list, which needs the folder only, so a cache hit never
 * loads the model.
 */
export async function getProfile(
  subject: ProfileSubject | string,
  options: GetProfileOptions = {},
): Promise<Profile> {
  const { dir, id } = typeof subject === "string" ? { dir: subject, id: undefined } : subject;
  const cacheDir = options.cacheDir ?? profileCacheDir();
  const modelId = options.modelId ?? id;
  const provider = options.onnx?.provider ?? "cpu";
  if (!options.refresh && !options.openTarget) {
    const { file, files } = modelFiles(dir, options.onnx);
    const hash = hashModelFiles(files);
    const variant = file.dtype && file.dtype !== "fp32" ? `:${file.dtype}` : "";
    const name = modelId ?? `${defaultModelId(dir)}${variant}`;
    const cached = readCachedProfile(cacheDir, name, provider, hash);
    if (cached) return cached;
  }
  const target = options.openTarget
    ? await options.openTarget(dir)
    : await openOnnxTarget(dir, { ...options.onnx, ...(modelId ? { modelId } : {}) });
  try {
    const hash = hashModelFiles(target.files);
    const name = modelId ?? target.modelId;
    if (!options.refresh) {
      const cached = readCachedProfile(cacheDir, name, target.provider, hash);
      if (cached) return cached;
    }
    const profile = await calibrate(target, options);
    profile.modelId = name;
    writeProfile(cacheDir, profile);
    return profile;
  } finally {
    await target.dispose();
  }
}

/** The same default the ONNX target uses: the folder's name. */
function defaultModelId(dir: string): string {
  return basename(resolve(dir));
}
