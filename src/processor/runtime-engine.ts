// The LlmEngine over the runtime's Model: its padded batched forward (`Model.prefill`, where each
// sequence continues its own past), its per-sequence KV (`SequenceKv`) wrapped as a cache payload,
// and its own request state for choosing tokens, so greedy answers equal `Model.generate`.
import type { Model } from "../runtime/index.ts";
import { SequenceKv, type KvShape } from "../runtime/index.ts";
// The runtime's index does not export its request state yet; it is what `generate` uses per row.
import { RequestState, validateRequest } from "../runtime/request-state.ts";
import type { GenerateRequest } from "../runtime/types.ts";
import { checkSliceBounds, type KvPayload } from "./kv-payload.ts";
import type { ForwardInput, ForwardOutput, LlmEngine, SequenceDecoder } from "./llm-engine.ts";

/** A sequence's KV as a prefix-cache payload. Buffers per layer: [kvHeads, length, headDim]. */
export class RuntimeKv implements KvPayload<RuntimeKv> {
  constructor(readonly kv: SequenceKv) {}

  get numTokens(): number {
    return this.kv.length;
  }

  get bytes(): number {
    return this.kv.byteSize;
  }

  slice(start: number, end: number): RuntimeKv {
    checkSliceBounds(this.kv.length, start, end);
    if (start === 0) return new RuntimeKv(this.kv.slice(end));
    const { shape, length } = this.kv;
    const { numKvHeads: h, headDim: d } = shape;
    const n = end - start;
    const cut = (src: Float32Array) => {
      const out = new Float32Array(h * n * d); // [kvHeads, n, headDim]
      for (let head = 0; head < h; head++) {
        const from = (head * length + start) * d;
        out.set(src.subarray(from, from + n * d), head * n * d);
      }
      return out;
    };
    return new RuntimeKv(new SequenceKv(shape, n, this.kv.keys.map(cut), this.kv.values.map(cut)));
  }

  concat(rest: readonly RuntimeKv[]): RuntimeKv {
    if (rest.length === 0) return this;
    const parts = [this.kv, ...rest.map((r) => r.kv)];
    return new RuntimeKv(concatSequences(parts, this.kv.shape));
  }
}

/** One allocation per buffer for many parts (a chain of `append` would copy quadratically). */
function concatSequences(parts: readonly SequenceKv[], shape: KvShape): SequenceKv {
  const { numLayers, numKvHeads: h, headDim: d } = shape;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const join = (pick: (kv: SequenceKv) => Float32Array[], layer: number) => {
    const out = new Float32Array(h * total * d); // [kvHeads, total, headDim]
    let at = 0;
    for (const part of parts) {
      const src = pick(part)[layer]!;
      const n = part.length;
      for (let head = 0; head < h; head++) {
        out.set(src.subarray(head * n * d, (head + 1) * n * d), (head * total + at) * d);
      }
      at += n;
    }
    return out;
  };
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < numLayers; l++) {
    keys.push(join((kv) => kv.keys, l));
    values.push(join((kv) => kv.values, l));
  }
  return new SequenceKv(shape, total, keys, values);
}

export class RuntimeEngine implements LlmEngine<RuntimeKv> {
  readonly modelId: string;
  readonly kvBytesPerToken: number;
  readonly maxPositions: number;
  private readonly eos: ReadonlySet<number>;

  constructor(readonly model: Model) {
    const c = model.config;
    this.modelId = model.id;
    // K and V, every layer, fp32 (the runtime accepts float32 KV only).
    this.kvBytesPerToken = 2 * c.numLayers * c.numKvHeads * c.headDim * 4;
    this.maxPositions = c.maxPositions;
    this.eos = new Set(c.eosTokenIds);
  }

  async forward(inputs: readonly ForwardInput<RuntimeKv>[]): Promise<ForwardOutput<RuntimeKv>[]> {
    const outputs = await this.model.prefill(
      inputs.map((x) => (x.past ? { tokens: x.tokens, past: x.past.kv } : { tokens: x.tokens })),
    );
    return outputs.map((o) => ({ logits: o.logits, kv: new RuntimeKv(o.kv) }));
  }

  createDecoder(request: GenerateRequest): SequenceDecoder {
    validateRequest(request, 0, this.model.config.vocabSize);
    const state = new RequestState(request, this.model.tokenizer, this.eos);
    return {
      next(logits) {
        const token = state.pick(logits);
        state.accept(token);
        return { token, done: state.done };
      },
      result() {
        const { text, tokens, finishReason } = state.result();
        return { text, tokens, finishReason };
      },
    };
  }
}

/** Whether an executor's model is the runtime's Model (so the worker can drive its forward). */
export function isRuntimeModel(model: unknown): model is Model {
  const m = model as Partial<Model> | undefined;
  return (
    typeof m?.prefill === "function" &&
    typeof m.encodeChat === "function" &&
    typeof m.config?.numLayers === "number" &&
    m.tokenizer !== undefined
  );
}
