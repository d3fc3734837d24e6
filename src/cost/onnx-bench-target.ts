// A BenchTarget over a model folder, run through the runtime itself (loadModel, DecoderSession):
// the graph the dtype picks, fed the way its signature asks, in the batch layout its self-test
// chose, with KV in its own element type. So the profile measures exactly what the Processor pays,
// for every graph family (a GPT-2-style graph in per-length groups costs what those groups cost).
// Every input is built inside the timed call, as an executor must (the past is copied in on
// every call: runtime.md pitfall 5).
import { statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { chooseFolderDecoder } from "../runtime/choose-decoder.ts";
import type { Dtype } from "../runtime/dtypes.ts";
import { kvBytesPerToken, allocKv } from "../runtime/kv-cache.ts";
import { KV_ROOM, type PaddedKv } from "../runtime/kv-batch.ts";
import { loadModel } from "../runtime/load-model.ts";
import { readModelFolder } from "../runtime/model-files.ts";
import type { BenchTarget } from "./bench-target.ts";
import type { PrefillRow } from "./formulas.ts";

export interface OnnxTargetOptions {
  /** Profile key; default: the folder's name (and the dtype, when not fp32). */
  modelId?: string;
  provider?: "cpu" | "cuda" | "webgpu";
  intraOpThreads?: number;
  /** Which variant of the folder (as `loadModel` takes it). */
  dtype?: Dtype;
  onnxFile?: string;
}

interface DecoderShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number;
}

/** The ONNX file and its external data files that the options pick in a model folder. */
export function modelFiles(dir: string, options: { dtype?: Dtype; onnxFile?: string } = {}) {
  let file;
  try {
    file = chooseFolderDecoder(dir, options);
  } catch (error) {
    throw new Error(`cost: ${(error as Error).message}; pass a model folder (--model DIR)`);
  }
  return { file, files: file.files.map((f) => join(dir, f)) };
}

/** Reads the numbers calibration needs from the folder's config (nested text_config and genai too). */
export function readDecoderShape(dir: string): DecoderShape {
  let config;
  try {
    config = readModelFolder(dir).config;
  } catch (error) {
    throw new Error(`cost: ${(error as Error).message}; is ${dir} a model folder?`);
  }
  return {
    numLayers: config.numLayers,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    maxPositions: config.maxPositions,
  };
}

export async function openOnnxTarget(
  dir: string,
  options: OnnxTargetOptions = {},
): Promise<BenchTarget> {
  const root = resolve(dir);
  const { file, files } = modelFiles(root, options);
  const load = {
    ...(options.dtype ? { dtype: options.dtype } : {}),
    ...(options.onnxFile ? { onnxFile: options.onnxFile } : {}),
    provider: options.provider ?? "cpu",
    ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
  };
  const model = await loadModel(root, load);
  const session = model.session;
  const shape = session.shape;
  const weightBytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const token = Math.min(...model.config.eosTokenIds, model.config.padTokenId) - 1;

  // [batch, kvHeads, past, headDim] zeros, every position real: values do not change the cost,
  // shapes do
  const past = (batch: number, len: number): PaddedKv => {
    const n = batch * shape.numKvHeads * len * shape.headDim;
    const layer = () => Array.from({ length: shape.numLayers }, () => allocKv(shape, n));
    return {
      keys: layer(),
      values: layer(),
      mask: new Uint8Array(batch * len).fill(1),
      width: len,
      batch,
    };
  };
  const runShape = async (batch: number, seq: number, pastLen: number) => {
    const tokens = Array.from({ length: batch }, () => new Array<number>(seq).fill(token));
    await session.run(tokens, past(batch, pastLen));
  };
  // A steady decode step: its past is the newest state of a buffer with room, kept from one
  // sample to the next, so the step writes its one new column in place as a running batch's steps
  // do (graphs that output new KV only, new-kv-outputs.ts), and nothing is allocated in the timed
  // call. A fresh past each sample timed building and copying it: version-5 profiles first
  // calibrated that way gave 0.11 ms a context token a row against 0.05 before the rewrite.
  const room = session.newKvOnly ? KV_ROOM : 0;
  const steady = new Map<string, PaddedKv>();
  const decodeStep = async (batch: number, context: number) => {
    const key = `${batch}x${context}`;
    let base = steady.get(key);
    if (!base) {
      const n = batch * shape.numKvHeads * (context + room) * shape.headDim;
      const layer = () => Array.from({ length: shape.numLayers }, () => allocKv(shape, n));
      const mask = new Uint8Array(batch * (context + room));
      for (let row = 0; row < batch; row++)
        mask.fill(1, row * (context + room), row * (context + room) + context);
      base = { keys: layer(), values: layer(), mask, width: context + room, batch, used: context };
      steady.set(key, base);
    }
    const state: PaddedKv = { ...base };
    state.store = { head: state }; // each sample appends at the same column, over the last one's
    const tokens = Array.from({ length: batch }, () => [token]);
    await session.run(tokens, state);
  };

  const variant = file.dtype && file.dtype !== "fp32" ? `:${file.dtype}` : "";
  return {
    modelId: options.modelId ?? `${basename(root)}${variant}`,
    provider: model.provider,
    files,
    maxPositions: model.config.maxPositions,
    kvBytesPerToken: kvBytesPerToken(shape),
    weightBytes,
    // A rectangular batch: rows shorter than the longest are padded, as a batched executor does.
    prefill: (rows: readonly PrefillRow[]) =>
      runShape(
        rows.length,
        Math.max(...rows.map((r) => r.newTokens)),
        Math.max(...rows.map((r) => r.cachedTokens)),
      ),
    decodeStep,
    async measureLoadMs() {
      const t0 = performance.now();
      const fresh = await loadModel(root, { ...load, selfTest: false, layout: model.layout });
      const ms = performance.now() - t0;
      await fresh.dispose();
      return ms;
    },
    dispose: () => model.dispose(),
  };
}
