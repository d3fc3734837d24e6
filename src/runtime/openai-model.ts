// An LlmModel that runs on OpenAI-compatible servers instead of in-process: vLLM, SGLang, Ollama,
// llama.cpp's server, LM Studio, TGI, hosted APIs, or another `halo serve`. The optimizer and
// Processor treat it like any model: they still merge duplicate calls, push filters down and
// order rows by shared prefix; this backend sends each request to the replica whose cache holds
// its prefix (replica-router.ts), within each server's rate limits, and lets the server batch.
//
// Three modes (openai/options.ts): "tokens" tokenizes here with the served model's own tokenizer
// and chat template and sends token ids with `return_token_ids`, so the engine runs exactly the
// ids the local runtime would and greedy answers match `Model.generate` on the same weights;
// "chat" sends messages and "completions" text, for servers that tokenize themselves, with no
// tokenizer needed (prompts are then handles, openai/prompt-handle.ts, and token counts come from
// the server's `usage`). Choices and schemas go out in the server's structured-output dialect and
// every answer is checked on return (openai/structured-output.ts): one that breaks them is that
// row's error.
//
//   halo.models.register("local-llama", halo.openai({ baseUrls: "http://127.0.0.1:11434/v1", model: "llama3.2" }));
import { basename, resolve } from "node:path";
import type { Profile } from "../cost/profile.ts";
import type { ModelPrice } from "../cost/price.ts";
import type { LlmModel } from "../executor/types.ts";
import { resolveOptions, type OpenAiModelOptions, type ResolvedOptions } from "./openai/options.ts";
import { encodeHandle } from "./openai/prompt-handle.ts";
import { retryWaitMs, statedLimits } from "./openai/rate-headers.ts";
import { RateLimiter } from "./openai/rate-limiter.ts";
import {
  readAnswer,
  wireRequest,
  type WireAnswer,
  type WireRequest,
} from "./openai/request-shape.ts";
import { checkedAnswer } from "./openai/structured-output.ts";
import { postWait } from "./openai/wait-notices.ts";
import { ReplicaRouter, type Replica } from "./replica-router.ts";
import { TextTokenizer } from "./tokenizer.ts";
import type { ChatMessage, GenerateRequest, GenerateResult } from "./types.ts";

export type { OpenAiModelOptions } from "./openai/options.ts";
export { retryAfterMs } from "./openai/rate-headers.ts";

/** The profile key `halo calibrate --url` writes and the cost model reads for a served model. */
export function remoteProfileId(servedModel: string): string {
  return `openai-${servedModel}`;
}

/** Retry waits: 250 ms doubling, capped, unless the server says how long. */
const BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8000;

/** A failure the server's answer decided: retrying the same request cannot change it. */
class FinalError extends Error {}

export class OpenAiModel implements LlmModel {
  readonly id: string;
  /** The served model's name (also the profile key's stem). */
  readonly servedModel: string;
  readonly mode: ResolvedOptions["mode"];
  /** The served model's tokenizer, when a folder was given. */
  readonly tokenizer: TextTokenizer | undefined;
  readonly router: ReplicaRouter;
  /** What its tokens cost, when the user said (`price`). */
  readonly price: ModelPrice | undefined;
  private readonly options: ResolvedOptions;
  private readonly endpoints: Map<string, string>;
  private readonly limiters = new Map<string, RateLimiter>();
  /**
   * Answers by request object while the generate() call holding them settles. The Processor's
   * batcher, when one request of a batch fails, sends each again alone so the others are not
   * lost; here that must not reach the server twice (a rate limit counts every request).
   */
  private readonly pending = new WeakMap<GenerateRequest, Promise<GenerateResult>>();

  constructor(options: OpenAiModelOptions) {
    const o = resolveOptions(options);
    this.options = o;
    this.mode = o.mode;
    this.price = o.price;
    const dir = o.tokenizer === undefined ? undefined : resolve(o.tokenizer);
    this.tokenizer = dir === undefined ? undefined : new TextTokenizer(dir);
    this.servedModel = o.model ?? basename(dir!);
    this.id = remoteProfileId(this.servedModel);
    this.endpoints = new Map(o.urls.map((u) => [u, /\/v1$/.test(u) ? u : `${u}/v1`]));
    this.router = new ReplicaRouter(o.urls, {
      concurrency: o.concurrency,
      affinityTokens: o.affinityTokens,
    });
    for (const url of o.urls) {
      const key = `${this.servedModel}\u0000${url}`;
      const host = hostOf(url);
      this.limiters.set(
        url,
        new RateLimiter(o.limits, (wait) =>
          postWait(key, wait && { label: `${wait.reason} at ${host}`, untilMs: wait.untilMs }),
        ),
      );
    }
  }

  /**
   * The profile `halo calibrate --url URL --served-model NAME` stored for this served model, or
   * undefined (then planning keeps the prior). Loaded lazily: the cost module pulls in onnxruntime.
   */
  async loadProfile(): Promise<Profile | undefined> {
    const { profileCacheDir, readCachedProfile } = await import("../cost/profile-cache.ts");
    const { hashModelFiles } = await import("../cost/model-hash.ts");
    return readCachedProfile(profileCacheDir(), this.id, "http", hashModelFiles([]));
  }

  /** Token ids ("tokens" mode), or a prompt handle the server's text is rebuilt from. */
  encodeChat(messages: ChatMessage[]): number[] {
    return this.mode === "tokens" ? this.tokenizer!.encodeChat(messages) : encodeHandle(messages);
  }

  /** Every request goes out at once; the router's and the limiters' queues hold the rest back. */
  generate(
    requests: GenerateRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<GenerateResult[]> {
    const all = Promise.all(
      requests.map((r) => {
        let p = this.pending.get(r);
        if (!p) {
          p = this.complete(r, options.signal);
          this.pending.set(r, p);
        }
        return p;
      }),
    );
    // Forgotten after this turn: a later generate() of the same object asks the server again.
    const forget = () => setImmediate(() => requests.forEach((r) => this.pending.delete(r)));
    all.then(forget, forget);
    return all;
  }

  private async complete(request: GenerateRequest, signal?: AbortSignal): Promise<GenerateResult> {
    const o = this.options;
    const wire = wireRequest(request, o.mode, o.flavour, this.servedModel, this.tokenizer);
    const body = JSON.stringify(wire.body);
    const estimate = this.promptEstimate(request, wire) + request.sampling.maxTokens;
    // The deadline starts when the request is first sent: time queued behind the concurrency
    // and rate limits is not the server's slowness.
    let deadline: AbortSignal | undefined;
    let lastError = "";
    const stopped = (error: unknown): unknown => {
      if (deadline?.aborted && !signal?.aborted)
        return new Error(
          `openai model: no answer within timeoutMs ${o.timeoutMs}${lastError ? ` (last: ${lastError})` : ""}: raise timeoutMs or add replicas`,
        );
      return signal?.aborted ? signal.reason : error;
    };
    for (let attempt = 0; ; attempt++) {
      const waitSignal = anyOf(signal, deadline);
      const slot = await this.router
        .acquire(request.promptTokens, waitSignal)
        .catch((e: unknown) => Promise.reject(stopped(e)));
      const limiter = this.limiters.get(slot.replica.url)!;
      let backoff = Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** attempt);
      try {
        const ticket = await limiter.acquire(estimate, waitSignal).catch((e: unknown) => {
          throw signal?.aborted || deadline?.aborted
            ? stopped(e)
            : new FinalError(`openai model: ${(e as Error).message}`);
        });
        deadline ??= AbortSignal.timeout(o.timeoutMs);
        try {
          const res = await fetch(`${this.endpoints.get(slot.replica.url)}/${wire.path}`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
            },
            body,
            signal: anyOf(signal, deadline),
          });
          this.router.markUp(slot.replica);
          const text = await res.text();
          if (res.ok) {
            limiter.observe(statedLimits(res.headers), ticket);
            return this.result(request, wire, text, slot.replica);
          }
          const message = `${slot.replica.url} answered ${res.status}: ${errorMessage(text)}`;
          if (res.status !== 429 && res.status < 500)
            throw new FinalError(`openai model: ${message}`);
          lastError = message;
          const told = retryWaitMs(res.headers);
          // A 429 holds every request to that server, not just this one.
          if (res.status === 429) limiter.pause(told ?? backoff);
          backoff = res.status === 429 ? 0 : (told ?? backoff);
        } finally {
          ticket.release();
        }
      } catch (error) {
        if (error instanceof FinalError) throw error;
        if (signal?.aborted || deadline?.aborted) throw stopped(error);
        // fetch failed before an answer: connection refused, reset, DNS
        this.router.markDown(slot.replica);
        lastError = `${slot.replica.url} unreachable (${causeOf(error)})`;
        backoff = this.router.replicas.some((r) => r.downUntil === 0) ? 0 : backoff;
      } finally {
        slot.release();
      }
      if (attempt >= o.retries)
        throw new Error(
          `openai model: gave up after ${attempt + 1} attempts; last: ${lastError} (raise retries, or check the servers)`,
        );
      await sleep(backoff, anyOf(signal, deadline)).catch((e: unknown) => {
        throw stopped(e);
      });
    }
  }

  /** The prompt's tokens before the server counts them: exact in "tokens" mode or with a tokenizer. */
  private promptEstimate(request: GenerateRequest, wire: WireRequest): number {
    if (this.mode === "tokens" || !this.tokenizer || !wire.messages)
      return request.promptTokens.length;
    const prompt = wire.body.prompt;
    if (typeof prompt === "string") return this.tokenizer.encode(prompt, false).length;
    return this.tokenizer.hasChatTemplate
      ? this.tokenizer.encodeChat(wire.messages).length
      : this.tokenizer.encode(wire.messages.map((m) => m.content).join("\n\n"), false).length;
  }

  private result(
    request: GenerateRequest,
    wire: WireRequest,
    body: string,
    replica: Replica,
  ): GenerateResult {
    let answer: WireAnswer;
    let text: string;
    try {
      answer = readAnswer(this.mode, JSON.parse(body));
      text = checkedAnswer(this.options.flavour, request.sampling, answer.text);
    } catch (error) {
      const why =
        error instanceof SyntaxError
          ? "answered 200 with a body that is not JSON"
          : (error as Error).message;
      throw new FinalError(`openai model: ${replica.url}: ${why}`);
    }
    const usage = answer.usage;
    const prompt =
      this.mode === "tokens"
        ? request.promptTokens.length
        : (usage?.prompt_tokens ?? this.promptEstimate(request, wire));
    const cached = Math.min(prompt, usage?.prompt_tokens_details?.cached_tokens ?? 0);
    return {
      text,
      tokens: this.answerTokens(answer, text),
      finishReason: finishReason(request, answer),
      prefillTokens: prompt - cached,
      cachedTokens: cached,
    };
  }

  /**
   * The answer's token ids: the engine's own when it returns them; else re-encoded with the
   * tokenizer (which can differ at BPE boundaries); else, from a text-only server without a
   * tokenizer, ids are unknown (-1) and only their number, the server's `completion_tokens`, is real.
   */
  private answerTokens(answer: WireAnswer, text: string): number[] {
    if (answer.tokenIds) return answer.tokenIds;
    if (this.tokenizer) return this.tokenizer.encode(text, false);
    const n =
      answer.usage?.completion_tokens ??
      encodeHandle([{ role: "assistant", content: text }]).length;
    return new Array<number>(Math.max(0, n)).fill(-1);
  }
}

/** vLLM's convention: stop_reason is null at end-of-sequence, the matched stop otherwise. */
function finishReason(
  request: GenerateRequest,
  answer: WireAnswer,
): GenerateResult["finishReason"] {
  if (request.sampling.choices?.length) return "choice";
  if (answer.finishReason === "length") return "length";
  return answer.stopReason === null || answer.stopReason === undefined ? "eos" : "stop";
}

function anyOf(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

function hostOf(url: string): string {
  return new URL(url).host;
}

function errorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const m = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message);
    if (typeof m === "string") return m;
  } catch {
    // not JSON: show the start of the body
  }
  return body.slice(0, 200);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? String(error);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (ms <= 0) return resolve();
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `halo.openai({...})`: an LlmModel to register with `halo.models.register(name, model)`. */
export function createOpenAiModel(options: OpenAiModelOptions): OpenAiModel {
  return new OpenAiModel(options);
}
