// A BenchTarget over an OpenAI-compatible /v1/completions server (vLLM, SGLang, llama.cpp,
// `halo serve`), so `halo calibrate --url` fits the same two formulas to a remote engine and the
// cost model plans remote work with measured constants. Measuring through HTTP approximates:
// - prefill(rows) is one request per row, sent together, each with `max_tokens: 1`: the time
//   includes one sampled token and the HTTP round trip (both land in c_call). The rows' first
//   `cachedTokens` are the same ids across rows and calls, so after the warm-up the engine's prefix
//   cache holds them; the new tokens differ per call, so they are really computed.
// - a decode step is (time of requests generating S+1 tokens - time of the same shape generating
//   1) / S, over `batch` concurrent requests with `context`-token prompts. The engine decides its
//   own batching; sequences ending early at end-of-sequence shrink the batch, so S counts the
//   longest answer's tokens. The requests ask for `ignore_eos` (vLLM honours it; Halo's server
//   ignores it, so there answers may end early and fewer steps are timed).
// - model load, weights and KV memory are the engine's business: load 0, weights 0.
import { basename, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { remoteProfileId } from "../runtime/openai-model.ts";
import type { BenchTarget } from "./bench-target.ts";
import type { PrefillRow } from "./formulas.ts";
import { readDecoderShape } from "./onnx-bench-target.ts";
import { kvBytesPerToken } from "./profile.ts";

export interface HttpTargetOptions {
  /** Server base URL ("http://host:8000" or "http://host:8000/v1"). */
  url: string;
  /** The model folder the server serves (its config.json gives KV size and context length). */
  modelDir?: string;
  /** The served model's name; default the folder's name (as `halo.openai` defaults it). */
  servedModel?: string;
  apiKey?: string;
  /** Decode steps timed per point. Default 16. */
  decodeSteps?: number;
}

/** Token ids used as dummy text: printable bytes, present in any byte-level BPE vocabulary. */
const FIRST_ID = 33;
const NUM_IDS = 90;

export async function openHttpTarget(options: HttpTargetOptions): Promise<BenchTarget> {
  const base = options.url.replace(/\/+$/, "");
  const endpoint = /\/v1$/.test(base) ? `${base}/completions` : `${base}/v1/completions`;
  const dir = options.modelDir ? resolve(options.modelDir) : undefined;
  const servedModel = options.servedModel ?? (dir ? basename(dir) : undefined);
  if (!servedModel)
    throw new Error(
      "calibrate --url: pass --model DIR (the served model's folder) or --served-model NAME, so the profile is filed under the name halo.openai uses",
    );
  const shape = dir ? readDecoderShape(dir) : undefined;
  const steps = options.decodeSteps ?? 16;
  let call = 0;

  // Distinct per call and row: no two calls share new tokens, so nothing but the intended prefix
  // can hit the engine's cache.
  const fresh = (n: number, salt: number) =>
    Array.from(
      { length: n },
      (_, i) => FIRST_ID + ((i * 7 + salt * 31 + ((salt * i) >> 3)) % NUM_IDS),
    );
  const shared = (n: number) =>
    Array.from({ length: n }, (_, i) => FIRST_ID + ((i * 13) % NUM_IDS));

  const post = async (prompt: number[], maxTokens: number): Promise<number> => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: servedModel,
        prompt,
        max_tokens: maxTokens,
        temperature: 0,
        ignore_eos: true,
      }),
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(`calibrate --url: ${endpoint} answered ${res.status}: ${text.slice(0, 200)}`);
    const json = JSON.parse(text) as { usage?: { completion_tokens?: number } };
    return json.usage?.completion_tokens ?? maxTokens;
  };
  const timed = async (prompts: number[][], maxTokens: number) => {
    const t = performance.now();
    const counts = await Promise.all(prompts.map((p) => post(p, maxTokens)));
    return { ms: performance.now() - t, longest: Math.max(...counts) };
  };

  const timeDecodeStep = async (batch: number, context: number): Promise<number> => {
    const n = ++call;
    const prompts = (salt: number) =>
      Array.from({ length: batch }, (_, i) => fresh(Math.max(1, context), salt * 64 + i));
    const short = await timed(prompts(2 * n), 1);
    const long = await timed(prompts(2 * n + 1), steps + 1);
    const decoded = long.longest - 1;
    // One-token answers everywhere: no step was timed; report the short request's per-token
    // share so the point stays finite (the robust fit drops it as an outlier if it is off).
    if (decoded < 1) return short.ms / Math.max(1, context);
    const step = (long.ms - short.ms) / decoded;
    // On a tiny model a few decode steps cost less than the noise of two HTTP round trips, and
    // the difference can come out at or below zero: the fit drops such a point, and with three
    // grid points one lost point failed calibration (seen in CI). The long request's time per
    // generated token (its prefill included: an overestimate) keeps the point finite and positive.
    return step > 0 ? step : long.ms / Math.max(1, long.longest);
  };

  // Fail at once, with the server's answer, when the URL is not a completions endpoint.
  await post(fresh(4, 0), 1);

  return {
    modelId: remoteProfileId(servedModel),
    provider: "http",
    files: [],
    maxPositions: shape?.maxPositions ?? 2048,
    kvBytesPerToken: shape ? kvBytesPerToken(shape, 4) : 0,
    weightBytes: 0,
    async prefill(rows: readonly PrefillRow[]) {
      const n = ++call;
      await timed(
        rows.map((r, i) => [...shared(r.cachedTokens), ...fresh(r.newTokens, n * 64 + i)]),
        1,
      );
    },
    async decodeStep(batch: number, context: number) {
      await timeDecodeStep(batch, context);
    },
    timeDecodeStep,
    async measureLoadMs() {
      return 0;
    },
    async dispose() {},
  };
}
