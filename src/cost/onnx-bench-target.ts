// A BenchTarget over an ONNX decoder folder in the standard layout (config.json, onnx/model.onnx
// with inputs input_ids, attention_mask, position_ids, past_key_values.{i}.key|value and KV
// shaped [batch, kvHeads, seq, headDim]), run through onnxruntime-node. It builds every input
// tensor inside the timed call, as an executor must (the past is copied in on every call:
// runtime.md pitfall 5), so the measured cost includes that copy.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import ort from "onnxruntime-node";
import type { BenchTarget } from "./bench-target.ts";
import type { PrefillRow } from "./formulas.ts";
import { kvBytesPerToken } from "./profile.ts";

export interface OnnxTargetOptions {
  /** Profile key; default: the folder's name. */
  modelId?: string;
  provider?: "cpu" | "cuda" | "webgpu";
  intraOpThreads?: number;
}

interface DecoderShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number;
}

/** Finds the ONNX file of a model folder: onnx/model.onnx, then model.onnx. */
export function findOnnxFile(dir: string): string {
  for (const rel of ["onnx/model.onnx", "model.onnx"]) {
    const path = join(dir, rel);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `cost: no onnx/model.onnx or model.onnx in ${dir}; pass a model folder (--model DIR)`,
  );
}

/** Reads the numbers calibration needs from a Hugging Face config.json. */
export function readDecoderShape(dir: string): DecoderShape {
  const path = join(dir, "config.json");
  if (!existsSync(path)) throw new Error(`cost: ${path} is missing; is ${dir} a model folder?`);
  const c = JSON.parse(readFileSync(path, "utf8")) as Record<string, number | undefined>;
  const numLayers = c.num_hidden_layers;
  const numHeads = c.num_attention_heads;
  const hidden = c.hidden_size;
  if (!numLayers || !numHeads || !hidden) {
    throw new Error(`cost: ${path} lacks num_hidden_layers, num_attention_heads or hidden_size`);
  }
  return {
    numLayers,
    numKvHeads: c.num_key_value_heads ?? numHeads,
    headDim: c.head_dim ?? hidden / numHeads,
    maxPositions: c.max_position_embeddings ?? 2048,
  };
}

export async function openOnnxTarget(
  dir: string,
  options: OnnxTargetOptions = {},
): Promise<BenchTarget> {
  const root = resolve(dir);
  const file = findOnnxFile(root);
  const shape = readDecoderShape(root);
  const provider = options.provider ?? "cpu";
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
  };
  const session = await ort.InferenceSession.create(file, sessionOptions);
  const pastMeta = session.inputMetadata.find((m) => m.name === "past_key_values.0.key");
  if (!pastMeta) {
    throw new Error(
      `cost: ${file} has no input past_key_values.0.key; calibration needs a decoder exported with KV inputs`,
    );
  }
  const half = pastMeta.isTensor && pastMeta.type === "float16";
  const kvType = half ? "float16" : "float32";
  const dataFile = `${file}_data`;
  const files = existsSync(dataFile) ? [file, dataFile] : [file];
  const weightBytes = files.reduce((s, f) => s + statSync(f).size, 0);

  // [batch, kvHeads, past, headDim] zeros: values do not change the cost, shapes do.
  const past = (batch: number, len: number) => {
    const n = batch * shape.numKvHeads * len * shape.headDim;
    const data = half ? new Uint16Array(n) : new Float32Array(n);
    return new ort.Tensor(kvType, data, [batch, shape.numKvHeads, len, shape.headDim]);
  };
  const runShape = async (batch: number, seq: number, pastLen: number) => {
    const ids = new BigInt64Array(batch * seq); // [batch, seq]
    const mask = new BigInt64Array(batch * (pastLen + seq)).fill(1n); // [batch, past + seq]
    const positions = new BigInt64Array(batch * seq); // [batch, seq]
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < seq; i++) positions[b * seq + i] = BigInt(pastLen + i);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [batch, seq]),
      attention_mask: new ort.Tensor("int64", mask, [batch, pastLen + seq]),
    };
    if (session.inputNames.includes("position_ids")) {
      feeds.position_ids = new ort.Tensor("int64", positions, [batch, seq]);
    }
    for (let l = 0; l < shape.numLayers; l++) {
      feeds[`past_key_values.${l}.key`] = past(batch, pastLen);
      feeds[`past_key_values.${l}.value`] = past(batch, pastLen);
    }
    const out = await session.run(feeds);
    for (const t of Object.values(out)) t.dispose();
  };

  return {
    modelId: options.modelId ?? basename(root),
    provider,
    files,
    maxPositions: shape.maxPositions,
    kvBytesPerToken: kvBytesPerToken(shape, half ? 2 : 4),
    weightBytes,
    // A rectangular batch: rows shorter than the longest are padded, as a batched executor does.
    prefill: (rows: readonly PrefillRow[]) =>
      runShape(
        rows.length,
        Math.max(...rows.map((r) => r.newTokens)),
        Math.max(...rows.map((r) => r.cachedTokens)),
      ),
    decodeStep: (batch: number, context: number) => runShape(batch, 1, context),
    async measureLoadMs() {
      const t0 = performance.now();
      const fresh = await ort.InferenceSession.create(file, sessionOptions);
      const ms = performance.now() - t0;
      await fresh.release();
      return ms;
    },
    dispose: () => session.release(),
  };
}
