// Execution providers: cpu here; cuda and webgpu when asked for and available. onnxruntime-node
// 1.30 bundles cpu and webgpu; cuda needs the provider library beside the addon (docs/gpu.md).
// A missing provider falls back to cpu with a one-line notice, or throws when required.
import ort from "onnxruntime-node";
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
    // 2 cores shared by everyone on the build machines; a user can raise it
    intraOpNumThreads: options.intraOpThreads ?? 0,
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
  if (wanted === "cpu") return { session: await create("cpu"), provider: "cpu" };
  try {
    return { session: await create(wanted), provider: wanted };
  } catch (error) {
    const why = ((error as Error).message ?? String(error)).split("\n")[0];
    if (options.requireProvider)
      throw new Error(
        `execution provider "${wanted}" is required but could not start: ${why} (see docs/gpu.md)`,
      );
    notice(`halo: execution provider "${wanted}" is not available (${why}); using cpu`);
    return { session: await create("cpu"), provider: "cpu" };
  }
}
