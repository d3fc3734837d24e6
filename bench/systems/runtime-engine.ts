// The Processor's LlmEngine over the runtime's Model, for the baselines' shared LlmWorker:
// `Model.prefill` as the batched forward (each sequence on its own past), `SequenceKv` as the
// prefix-cache payload, and the runtime's own RequestState as the decoder, so greedy answers
// equal `Model.generate`. The Processor branch carries its own adapter; once that lands on main
// this file should give way to it (same contract: src/processor/llm-engine.ts).
import type { Model } from "../../src/runtime/model.ts";
import { SequenceKv } from "../../src/runtime/kv-cache.ts";
import { RequestState, validateRequest } from "../../src/runtime/request-state.ts";
import type { GenerateRequest } from "../../src/runtime/types.ts";
import { checkSliceBounds, type KvPayload } from "../../src/processor/kv-payload.ts";
import type {
  ForwardInput,
  ForwardOutput,
  LlmEngine,
  SequenceDecoder,
} from "../../src/processor/llm-engine.ts";

/** Tokens [start, end) of every layer's buffer; per layer [kvHeads, length, headDim]. */
function cutSpan(kv: SequenceKv, start: number, end: number): SequenceKv {
  const { numKvHeads: h, headDim: d } = kv.shape;
  const n = end - start;
  const cut = (src: Float32Array) => {
    const out = new Float32Array(h * n * d); // [kvHeads, n, headDim]
    for (let head = 0; head < h; head++) {
      const from = (head * kv.length + start) * d;
      out.set(src.subarray(from, from + n * d), head * n * d);
    }
    return out;
  };
  return new SequenceKv(kv.shape, n, kv.keys.map(cut), kv.values.map(cut));
}

/** Spans laid end to end, one allocation per buffer. */
function joinSpans(parts: readonly SequenceKv[]): SequenceKv {
  const shape = parts[0]!.shape;
  const { numKvHeads: h, headDim: d } = shape;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const join = (pick: (kv: SequenceKv) => Float32Array) => {
    const out = new Float32Array(h * total * d); // [kvHeads, total, headDim]
    let at = 0;
    for (const part of parts) {
      const src = pick(part);
      for (let head = 0; head < h; head++)
        out.set(
          src.subarray(head * part.length * d, (head + 1) * part.length * d),
          (head * total + at) * d,
        );
      at += part.length;
    }
    return out;
  };
  const keys = shape.numLayers ? [...Array(shape.numLayers).keys()] : [];
  return new SequenceKv(
    shape,
    total,
    keys.map((l) => join((kv) => kv.keys[l]!)),
    keys.map((l) => join((kv) => kv.values[l]!)),
  );
}

export class SequenceKvPayload implements KvPayload<SequenceKvPayload> {
  constructor(readonly kv: SequenceKv) {}
  get numTokens(): number {
    return this.kv.length;
  }
  get bytes(): number {
    return this.kv.byteSize;
  }
  slice(start: number, end: number): SequenceKvPayload {
    checkSliceBounds(this.kv.length, start, end);
    return new SequenceKvPayload(cutSpan(this.kv, start, end));
  }
  concat(rest: readonly SequenceKvPayload[]): SequenceKvPayload {
    if (rest.length === 0) return this;
    return new SequenceKvPayload(joinSpans([this.kv, ...rest.map((r) => r.kv)]));
  }
}

export class ModelEngine implements LlmEngine<SequenceKvPayload> {
  readonly modelId: string;
  readonly kvBytesPerToken: number;
  readonly maxPositions: number;
  private readonly eos: ReadonlySet<number>;

  constructor(readonly model: Model) {
    const c = model.config;
    this.modelId = model.id;
    this.kvBytesPerToken = 2 * c.numLayers * c.numKvHeads * c.headDim * 4; // K and V, fp32
    this.maxPositions = c.maxPositions;
    this.eos = new Set(c.eosTokenIds);
  }

  async forward(
    inputs: readonly ForwardInput<SequenceKvPayload>[],
  ): Promise<ForwardOutput<SequenceKvPayload>[]> {
    const out = await this.model.prefill(
      inputs.map((x) => (x.past ? { tokens: x.tokens, past: x.past.kv } : { tokens: x.tokens })),
    );
    return out.map((o) => ({ logits: o.logits, kv: new SequenceKvPayload(o.kv) }));
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
