// A loaded model: tokenizer + decoder session + the forward API the Processor drives.
//
//   const model = await loadModel(shippedModelDir());
//   const [r] = await model.generate([{ promptTokens: model.encodeChat(msgs), sampling: { maxTokens: 8 } }]);
//
// Low level: `prefill` runs token sequences (each optionally continuing from its own past KV) as
// one padded batch and returns per-sequence last-token logits and KV; `decodeStep` is the same
// with one token per sequence. KV stays per sequence (SequenceKv) between calls, so a prefix
// cache can slice, copy and share it.
import type { BatchLayout } from "./batch-layout.ts";
import type { DecoderSession } from "./decoder-session.ts";
import type { Dtype } from "./dtypes.ts";
import { generate } from "./generate.ts";
import { packSequences, splitPadded } from "./kv-batch.ts";
import { RequestState, validateRequest } from "./request-state.ts";
import { SequenceKv, sameKvShape } from "./kv-cache.ts";
import type { KvType } from "./kv-cache.ts";
import type { LoadOptions } from "./load-model.ts";
import type { SelfTestResult } from "./self-test.ts";
import type { TextTokenizer } from "./tokenizer.ts";
import type { ChatMessage, GenerateRequest, GenerateResult, ModelConfig } from "./types.ts";

export interface PrefillInput {
  /** New tokens (at least one), continuing `past` when given. */
  tokens: readonly number[];
  /** KV of the tokens before these (positions 0 .. past.length-1). */
  past?: SequenceKv;
}

export interface PrefillOutput {
  /** [vocab] logits after the last new token */
  logits: Float32Array;
  /** [tokens, vocab] logits after every new token, when asked for with allLogits */
  allLogits?: Float32Array;
  /** KV of past + new tokens */
  kv: SequenceKv;
}

/** Which graph a model runs and how (for explain output, logs and tests). */
export interface GraphInfo {
  /** The ONNX file, relative to the folder. */
  file: string;
  dtype?: Dtype;
  /** Why this file was chosen (the dtype option, config.json's default, fp32, ...). */
  reason: string;
  kvType: KvType;
  logitsType: "float32" | "float16";
  /** Computes in float16 (fp16, q4f16 files or float16 I/O): the self-test's tolerance is wider. */
  halfPrecision: boolean;
  /** For graphs that quantize activations at run time: per token (exact batching) or per tensor. */
  dynamicQuantization?: "per token (rewritten)" | "per tensor (batch-dependent)";
  /** DynamicQuantizeLinear nodes rewritten per token, and left as they were. */
  perTokenQuantization?: { rewritten: number; kept: number };
  /**
   * Which positions get logits: the graph's own last position only, every position (as exported,
   * or kept for `prefill({ allLogits })`), or rewritten to the last position
   * (last-position-logits.ts), naming the node the slice went in front of.
   */
  logits: "last position" | "every position" | { lastPositionBefore: string };
  /**
   * What the present KV outputs hold: as exported, or the new positions only (rewritten at load,
   * new-kv-outputs.ts; `fullKvOutputs: true` keeps them as exported).
   */
  kvOutputs: "new positions" | "past and new positions";
}

export interface DecodeInput {
  token: number;
  past: SequenceKv;
}

export class Model {
  readonly id: string;
  readonly dir: string;
  readonly config: ModelConfig;
  readonly tokenizer: TextTokenizer;
  readonly session: DecoderSession;
  readonly graph: GraphInfo;
  /** The options that chose this graph (a replica loads the same one). */
  readonly loadOptions: LoadOptions;
  /** Set by loadModel: which batch layout is exact for this graph, and by how much. */
  selfTestResult?: SelfTestResult;

  constructor(
    id: string,
    dir: string,
    config: ModelConfig,
    tokenizer: TextTokenizer,
    session: DecoderSession,
    graph: GraphInfo,
    loadOptions: LoadOptions,
  ) {
    this.id = id;
    this.dir = dir;
    this.config = config;
    this.tokenizer = tokenizer;
    this.session = session;
    this.graph = graph;
    this.loadOptions = loadOptions;
  }

  /** How rows share a graph call (batch-layout.ts), as the KV self-test chose it. */
  get layout(): BatchLayout {
    return this.session.layout;
  }

  /** The execution provider actually running the model ("cpu" after a fallback). */
  get provider(): string {
    return this.session.provider;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids);
  }

  encodeChat(messages: ChatMessage[]): number[] {
    return this.tokenizer.encodeChat(messages);
  }

  emptyKv(): SequenceKv {
    return SequenceKv.empty(this.session.shape);
  }

  /** Reference generation (batched prefill + decode loop, no cross-request cache). */
  generate(
    requests: GenerateRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<GenerateResult[]> {
    return generate(
      this.session,
      this.tokenizer,
      this.config.eosTokenIds,
      requests,
      options.signal,
    );
  }

  /**
   * The per-request token chooser `generate` uses (greedy/seeded sampling, stop strings, choices,
   * eos, maxTokens): schedulers that drive prefill/decodeStep themselves use it to get results
   * identical to `generate`. Loop: `st.accept(st.pick(logits))` until `st.done`; `st.result()`.
   */
  createDecoder(request: GenerateRequest, index = 0): RequestState {
    validateRequest(request, index, this.config.vocabSize);
    return new RequestState(request, this.tokenizer, new Set(this.config.eosTokenIds));
  }

  /** One batched forward over sequences of mixed lengths, each on its own past. */
  async prefill(
    inputs: readonly PrefillInput[],
    options: { allLogits?: boolean } = {},
  ): Promise<PrefillOutput[]> {
    if (inputs.length === 0) return [];
    const shape = this.session.shape;
    inputs.forEach((input, i) => {
      if (!input.tokens?.length) throw new Error(`prefill input ${i} has no tokens`);
      for (const id of input.tokens)
        if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize)
          throw new Error(
            `prefill input ${i}: token id ${id} is outside the vocabulary [0, ${this.config.vocabSize})`,
          );
      if (input.past && !sameKvShape(input.past.shape, shape))
        throw new Error(`prefill input ${i}: its past KV was made by a model of another shape`);
    });
    const past = packSequences(
      inputs.map((x) => x.past ?? this.emptyKv()),
      shape,
      this.session.padding,
    );
    const {
      logits,
      logitsWidth: w,
      present,
    } = await this.session.run(
      inputs.map((x) => x.tokens),
      past,
      options,
    );
    const v = this.config.vocabSize;
    const kvs = splitPadded(present, shape);
    return inputs.map((x, row) => {
      const last = (row * w + w - 1) * v;
      const out: PrefillOutput = { logits: logits.slice(last, last + v), kv: kvs[row]! };
      if (options.allLogits) {
        const first = (row * w + w - x.tokens.length) * v;
        out.allLogits = logits.slice(first, last + v);
      }
      return out;
    });
  }

  /** One decode step for a batch, each sequence with its own past. */
  decodeStep(inputs: readonly DecodeInput[]): Promise<PrefillOutput[]> {
    return this.prefill(inputs.map((x) => ({ tokens: [x.token], past: x.past })));
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}
