// `halo calibrate [--model SRC] [--dtype D] [--out FILE] [--provider P] [--threads N]`: measures the model on
// this machine (or, with `--url URL [--served-model NAME]`, on an OpenAI-compatible engine:
// http-bench-target.ts, filed under the name `halo.openai` reads), stores the profile in the cache (profile-cache.ts) and optionally in FILE, and
// prints the fitted constants with the fit error so a user can judge how far to trust them.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Dtype } from "../runtime/dtypes.ts";
import { classifySource, modelSpec, resolveModelSourceShown } from "../runtime/model-source.ts";
import { openHttpTarget } from "./http-bench-target.ts";
import { getProfile, profileCacheDir, profilePath } from "./profile-cache.ts";
import type { Profile } from "./profile.ts";

/** The shipped model (issue: runtime): models/halo-tiny at the repository root. */
export const SHIPPED_MODEL_DIR = fileURLToPath(new URL("../../models/halo-tiny", import.meta.url));

const USAGE =
  "usage: halo calibrate [--model DIR|ORG/NAME [--revision R]] [--dtype D] [--out FILE] [--provider cpu|cuda|webgpu] [--threads N]\n" +
  "       halo calibrate --url http://HOST:PORT[/v1] [--served-model NAME] [--model DIR] [--out FILE]";

interface Args {
  /** A folder or a hub id (fetched into the Hugging Face cache first). */
  model: string;
  /** Which variant (fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4; checked by modelSpec). */
  dtype?: string;
  revision?: string;
  out?: string;
  provider: "cpu" | "cuda" | "webgpu";
  threads?: number;
  /** An OpenAI-compatible server to calibrate instead of the local model. */
  url?: string;
  servedModel?: string;
}

function parseArgs(args: string[]): Args {
  const out: Args = { model: SHIPPED_MODEL_DIR, provider: "cpu" };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = args[i + 1];
    const need = () => {
      if (value === undefined || value.startsWith("--")) {
        throw new Error(`calibrate: ${flag} needs a value\n${USAGE}`);
      }
      i++;
      return value;
    };
    if (flag === "--model") out.model = need();
    else if (flag === "--dtype") out.dtype = need();
    else if (flag === "--revision") out.revision = need();
    else if (flag === "--out") out.out = resolve(need());
    else if (flag === "--provider") {
      const p = need();
      if (p !== "cpu" && p !== "cuda" && p !== "webgpu") {
        throw new Error(`calibrate: --provider must be cpu, cuda or webgpu, got '${p}'`);
      }
      out.provider = p;
    } else if (flag === "--threads") {
      const n = Number(need());
      if (!Number.isInteger(n) || n < 1) {
        throw new Error(`calibrate: --threads must be a positive integer`);
      }
      out.threads = n;
    } else if (flag === "--url") {
      const u = need();
      if (!/^https?:\/\//.test(u))
        throw new Error(`calibrate: --url must be an http(s) URL such as http://127.0.0.1:8000/v1`);
      out.url = u;
    } else if (flag === "--served-model") out.servedModel = need();
    else throw new Error(`calibrate: unknown option '${flag}'\n${USAGE}`);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`halo: ${(err as Error).message}\n`);
    return 2;
  }
  if (!classifySource(args.model)) {
    process.stderr.write(
      `halo: calibrate: no model folder at ${resolve(args.model)} (and '${args.model}' is no hub id org/name); pass --model DIR (a folder with config.json and onnx/model.onnx) or --model ORG/NAME\n`,
    );
    return 1;
  }
  let dir: string;
  let dtype: Dtype | undefined;
  try {
    // a hub id downloads only this dtype's graph; a folder's graph is chosen the same way
    const source = await resolveModelSourceShown(modelSpec(args.model, args.dtype, args.revision));
    dir = source.dir;
    dtype = source.dtype;
  } catch (err) {
    process.stderr.write(`halo: calibrate: ${(err as Error).message}\n`);
    return 1;
  }
  const t0 = performance.now();
  const cacheDir = profileCacheDir();
  const url = args.url;
  const profile = await getProfile(dir, {
    cacheDir,
    refresh: true,
    ...(url
      ? {
          openTarget: (dir: string) =>
            openHttpTarget({
              url,
              modelDir: dir,
              ...(args.servedModel ? { servedModel: args.servedModel } : {}),
            }),
        }
      : {}),
    onnx: {
      provider: args.provider,
      ...(args.threads ? { intraOpThreads: args.threads } : {}),
      ...(dtype ? { dtype } : {}),
    },
    onProgress: (line) => process.stderr.write(`calibrate: ${line}\n`),
  });
  const seconds = (performance.now() - t0) / 1000;
  if (args.out) writeFileSync(args.out, `${JSON.stringify(profile, null, 2)}\n`);
  process.stdout.write(formatProfile(profile));
  process.stdout.write(
    `\ncalibrated in ${seconds.toFixed(1)} s; profile: ${profilePath(cacheDir, profile.modelId, profile.provider, profile.modelHash)}` +
      (args.out ? ` and ${args.out}` : "") +
      "\n",
  );
  return 0;
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** The constants and fit quality as a short table (also used by tests and docs). */
export function formatProfile(p: Profile): string {
  const f = (x: number) => (x === 0 ? "0" : x < 0.01 ? x.toExponential(2) : x.toFixed(3));
  return [
    `model ${p.modelId} on ${p.provider} (${p.machine.cpuModel}, ${p.machine.cpus} cpus)`,
    `prefill(B, L, P) = c_call + c_tok*sum(L) + c_att*sum(L*(P + L/2))`,
    `  c_call ${f(p.prefill.callMs)} ms   c_tok ${f(p.prefill.tokenMs)} ms   c_att ${f(p.prefill.attentionMs)} ms`,
    `  fit over ${p.fit.prefill.samples} points: median error ${pct(p.fit.prefill.medianRelError)}, worst ${pct(p.fit.prefill.maxRelError)}, ${p.fit.prefill.outliers} left out as disturbed`,
    `decode_step(B, T) = d_0 + d_row*B + d_kv*B*T`,
    `  d_0 ${f(p.decode.stepMs)} ms   d_row ${f(p.decode.rowMs)} ms   d_kv ${f(p.decode.kvMs)} ms`,
    `  fit over ${p.fit.decode.samples} points: median error ${pct(p.fit.decode.medianRelError)}, worst ${pct(p.fit.decode.maxRelError)}, ${p.fit.decode.outliers} left out as disturbed`,
    `kv bytes per token ${p.kvBytesPerToken}; kv budget ${(p.kvBudgetBytes / 2 ** 20).toFixed(0)} MiB`,
    `kv move ${(p.kvMove.bytesPerMs / 1e6).toFixed(2)} GB/s + ${f(p.kvMove.fixedMs)} ms; model load ${p.loadMs.toFixed(1)} ms`,
    "",
  ].join("\n");
}
