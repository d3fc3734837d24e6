// A toy model behind the scheduler's engine interface: its "KV" records each token with its
// position, and its next token is a hash of the whole KV, so any wrong, stale or misplaced past
// changes the output. Fast and deterministic: the scheduler's truth without onnxruntime.
import type { GenerateRequest, GenerateResult } from "../../../src/runtime/types.ts";
import type {
  ForwardInput,
  ForwardOutput,
  LlmEngine,
  SequenceDecoder,
} from "../../../src/processor/llm/llm-engine.ts";
import { ArrayPayload } from "./array-payload.ts";

export const EOS = 0;
export const VOCAB = 64;

export class ToyEngine implements LlmEngine<ArrayPayload> {
  readonly modelId = "toy";
  readonly maxPositions: number;
  readonly batchSizes: number[] = [];
  forwardCalls = 0;

  constructor(
    readonly kvBytesPerToken = 10,
    maxPositions = 4096,
    /** Each forward call takes at least this long (a timer, not CPU). */
    readonly delayMs = 0,
  ) {
    this.maxPositions = maxPositions;
  }

  async forward(
    inputs: readonly ForwardInput<ArrayPayload>[],
  ): Promise<ForwardOutput<ArrayPayload>[]> {
    this.forwardCalls++;
    this.batchSizes.push(inputs.length);
    await new Promise((resolve) =>
      this.delayMs > 0 ? setTimeout(resolve, this.delayMs) : setImmediate(resolve),
    );
    return inputs.map(({ past, tokens }) => {
      const start = past?.numTokens ?? 0;
      const fresh = new ArrayPayload(
        tokens.map((t, i) => t * 1000 + start + i),
        this.kvBytesPerToken,
      );
      const kv = past ? past.concat([fresh]) : fresh;
      return { logits: logitsOf(kv), kv };
    });
  }

  createDecoder(request: GenerateRequest): SequenceDecoder {
    return new GreedyDecoder(request.sampling.maxTokens);
  }
}

function logitsOf(kv: ArrayPayload): Float32Array {
  let h = 2166136261;
  for (const v of kv.values) h = Math.imul(h ^ v, 16777619) >>> 0;
  // FNV's low bits mix poorly: finish with murmur3's avalanche so h % 8 is uniform.
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  const logits = new Float32Array(VOCAB);
  // About one step in eight ends the answer, so answers have varied lengths.
  logits[h % 8 === 0 ? EOS : 1 + (h % (VOCAB - 1))] = 1;
  return logits;
}

class GreedyDecoder implements SequenceDecoder {
  private readonly tokens: number[] = [];
  private reason: GenerateResult["finishReason"] = "length";
  constructor(private readonly maxTokens: number) {}

  next(logits: Float32Array): { token: number; done: boolean } {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    if (best === EOS) {
      this.reason = "eos";
      return { token: best, done: true };
    }
    this.tokens.push(best);
    return { token: best, done: this.tokens.length >= this.maxTokens };
  }

  result() {
    return { text: this.tokens.join(" "), tokens: [...this.tokens], finishReason: this.reason };
  }
}

/** The oracle: one request alone, full prefill, no cache (what Model.generate does). */
export async function generateAlone(
  engine: ToyEngine,
  request: GenerateRequest,
): Promise<Omit<GenerateResult, "prefillTokens" | "cachedTokens">> {
  const decoder = engine.createDecoder(request);
  let [out] = await engine.forward([{ past: undefined, tokens: request.promptTokens }]);
  for (;;) {
    const { token, done } = decoder.next(out!.logits);
    if (done) return decoder.result();
    [out] = await engine.forward([{ past: out!.kv, tokens: [token] }]);
  }
}

/** Each request generated alone, one after another: what any batching must reproduce. */
export async function generateEachAlone(
  requests: readonly GenerateRequest[],
): Promise<Omit<GenerateResult, "prefillTokens" | "cachedTokens">[]> {
  const engine = new ToyEngine();
  const out = [];
  for (const r of requests) out.push(await generateAlone(engine, r));
  return out;
}
