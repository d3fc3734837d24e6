// One request's state inside the LLM worker, from submission to its answer.
import type { GenerateRequest, GenerateResult } from "../../runtime/types.ts";
import type { KvPayload } from "../kv/kv-payload.ts";
import type { SequenceDecoder } from "./llm-engine.ts";
import type { MatchResult } from "../kv/prefix-cache.ts";
import type { RunSink } from "../trace/run-sink.ts";

export class Sequence<K extends KvPayload<K>> {
  readonly promptTokens: readonly number[];
  readonly nodeIds: readonly number[];
  /** The run it belongs to (its trace records the forward calls it is in); none when untraced. */
  readonly sink: RunSink | undefined;
  /** Worst-case KV this sequence may hold: (prompt + maxTokens) x bytes per token. */
  readonly reserveBytes: number;
  reserved = false;
  /** KV of `fed`; undefined before prefill and once freed. */
  kv: K | undefined;
  /** Tokens whose KV is in `kv`: the prompt, then every generated token fed back. */
  fed: number[] = [];
  /** Chosen but not yet fed: the next decode step's input. */
  nextToken: number | undefined;
  /** The locked cache match that supplied the prefix, held until the prefill lands. */
  match: MatchResult | undefined;
  /** A prefix prefetched for this sequence, locked until its prefill locks its own match. */
  prefetched: { match: MatchResult["node"]; bytes: number } | undefined;
  cachedTokens = 0;
  prefillTokens = 0;
  settled = false;
  private readonly settleHooks: (() => void)[] = [];
  private readonly resolve: (result: GenerateResult) => void;
  private readonly reject: (error: unknown) => void;

  constructor(
    readonly id: number,
    readonly request: GenerateRequest,
    readonly decoder: SequenceDecoder,
    init: {
      resolve: (result: GenerateResult) => void;
      reject: (error: unknown) => void;
      nodeIds: readonly number[];
      sink: RunSink | undefined;
      reserveBytes: number;
    },
  ) {
    this.promptTokens = request.promptTokens;
    this.resolve = init.resolve;
    this.reject = init.reject;
    this.nodeIds = init.nodeIds;
    this.sink = init.sink;
    this.reserveBytes = init.reserveBytes;
  }

  onSettle(hook: () => void): void {
    this.settleHooks.push(hook);
  }

  settle(result: GenerateResult): void {
    if (this.settled) return;
    this.settled = true;
    for (const hook of this.settleHooks) hook();
    this.resolve(result);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    for (const hook of this.settleHooks) hook();
    this.reject(error);
  }
}

/** The error a cancelled request rejects with: name "AbortError", the signal's reason as cause. */
export function abortError(reason: unknown): Error {
  const error = new Error("LLM request was cancelled", { cause: reason });
  error.name = "AbortError";
  return error;
}
