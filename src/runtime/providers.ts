// Execution providers: cpu here; cuda and webgpu when asked for and available. onnxruntime-node
// 1.30 bundles cpu and webgpu; cuda needs the provider library beside the addon (docs/gpu.md).
// A missing provider falls back to cpu with a one-line notice, or throws when required.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import ort from "onnxruntime-node";
import { ModelFolderError } from "./model-files.ts";
import type { ExecutionOptions } from "./types.ts";

export type ProviderName = NonNullable<ExecutionOptions["provider"]>;

const PROVIDERS: readonly ProviderName[] = ["cpu", "cuda", "webgpu"];

export function checkProviderName(name: unknown): ProviderName {
  if (name === undefined) return "cpu";
  if (typeof name === "string" && (PROVIDERS as readonly string[]).includes(name))
    return name as ProviderName;
  throw new Error(
    `unknown execution provider ${JSON.stringify(name)}: use one of ${PROVIDERS.join(", ")}`,
  );
}

export function sessionOptions(
  provider: ProviderName,
  options: ExecutionOptions,
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    // Every core, said explicitly: onnxruntime-node's default (0) ran one thread on this 2-core
    // machine (1.05 cores busy). SmolLM2-135M's shape in fp32 (bench/runtime/forward-shapes.ts,
    // --threads 1 against the default): prefill 488-678 tok/s on one thread, 786-1,103 on two
    // (1.03 and 1.69 cores busy); decode steps at batch 6 alike (204 and 206 ms).
    intraOpNumThreads: options.intraOpThreads ?? availableParallelism(),
    interOpNumThreads: 1,
  };
}

/**
 * Creates the session on the requested provider, falling back to cpu when it cannot start
 * (not bundled, no driver, ABI mismatch). Returns the provider actually used. `source` is a file
 * path, or model bytes (a rewritten graph) whose external data files lie in `externalDataFolder`.
 */
export async function createSession(
  source: string | Uint8Array,
  options: ExecutionOptions,
  where: { externalDataFolder?: string } = {},
  notice: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<{ session: ort.InferenceSession; provider: ProviderName }> {
  const wanted = checkProviderName(options.provider);
  const create = (provider: ProviderName) => {
    const opts = sessionOptions(provider, options);
    if (where.externalDataFolder)
      // bytes have no folder of their own: tell onnxruntime where `location` paths resolve
      opts.extra = {
        session: { model_external_initializers_file_folder_path: where.externalDataFolder },
      };
    return typeof source === "string"
      ? ort.InferenceSession.create(source, opts)
      : ort.InferenceSession.create(source, opts);
  };
  if (wanted === "cpu") return { session: await openOnCpu(source, create), provider: "cpu" };
  try {
    return { session: await create(wanted), provider: wanted };
  } catch (error) {
    const why = ((error as Error).message ?? String(error)).split("\n")[0];
    if (options.requireProvider)
      throw new Error(
        `execution provider "${wanted}" is required but could not start: ${why} (see docs/gpu.md)`,
      );
    notice(`halo: execution provider "${wanted}" is not available (${why}); using cpu`);
    return { session: await openOnCpu(source, create), provider: "cpu" };
  }
}

/**
 * The cpu session, where a file that is not an ONNX model ends up (another provider failing on
 * it falls back here): onnxruntime's "Protobuf parsing failed" becomes what the file is and what
 * to do about it.
 */
async function openOnCpu(
  source: string | Uint8Array,
  create: (provider: ProviderName) => Promise<ort.InferenceSession>,
): Promise<ort.InferenceSession> {
  try {
    return await create("cpu");
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    // rewritten bytes (per-token-quantization.ts) came from a file that already parsed
    if (typeof source !== "string" || !/protobuf parsing failed/i.test(message)) throw error;
    throw unreadableModelError(source, "onnxruntime: Protobuf parsing failed");
  }
}

/**
 * A model file that does not parse, said as what it is and what to do (the loader's own
 * protobuf reader meets it first, load-model.ts; onnxruntime here, for any other caller).
 */
export function unreadableModelError(path: string, cause: string): ModelFolderError {
  return new ModelFolderError(
    `${path} is not a readable ONNX model (${cause}): ${whatFileIs(path)}. Download or export the model again; the folder's other files can stay`,
  );
}

/** A guess at why a model file does not parse, from its size and first bytes. */
function whatFileIs(path: string): string {
  const head = Buffer.alloc(200);
  let size = 0;
  let read = 0;
  try {
    size = statSync(path).size;
    const fd = openSync(path, "r");
    read = readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
  } catch {
    return "it cannot be read";
  }
  const start = head.subarray(0, read).toString("utf8");
  if (start.startsWith("version https://git-lfs"))
    return `it is a Git LFS pointer (${size} bytes of text), not the model: fetch it with \`git lfs pull\` or download the file itself`;
  // Protobuf is binary: printable text from the first byte means some other file was saved.
  if (read > 0 && /^[\t\n\r\x20-\x7e]+$/.test(start.slice(0, 64)))
    return `it is a text file of ${size} bytes starting ${JSON.stringify(start.slice(0, 40))}, not an ONNX model (an error page or a pointer saved in its place?)`;
  return `${size} bytes that do not parse: most likely a download cut short`;
}
