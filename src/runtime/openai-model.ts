// An LlmModel that runs on OpenAI-compatible servers (vLLM, SGLang, llama.cpp's server, another
// `halo serve`) instead of in-process. The optimizer and Processor treat it like any model: they
// still merge duplicate calls and order work by shared prefix; this backend sends the requests so
// each engine's own prefix cache hits (replica-router.ts) and lets the engine batch them.
//
// Exactness: prompts are tokenized here, with the model folder's own tokenizer and chat template
// (the runtime's loader), and sent as token ids with `return_token_ids`, so the engine sees exactly
// the ids the local runtime would run and results carry real `tokens`; greedy answers then match
// `Model.generate` on the same weights. Choices go out as vLLM's `guided_choice`; a schema as
// vLLM's `guided_json` and as OpenAI's `response_format: { type: "json_schema" }` (SGLang, llama.cpp
// and others read that one). The engine's answer is not trusted: the executor parses and validates
// it against the schema (runtime/json-schema/validate.ts), and an answer that breaks it is the
// row's error.
//
//   halo.models.register("remote", halo.openai({ baseUrls: ["http://10.0.0.5:8000/v1"], tokenizer: "models/halo-tiny" }));
import { basename, resolve } from "node:path";
import type { Profile } from "../cost/profile.ts";
import type { LlmModel } from "../executor/types.ts";
import { ReplicaRouter, type Replica } from "./replica-router.ts";
import { TextTokenizer } from "./tokenizer.ts";
import type { ChatMessage, GenerateRequest, GenerateResult } from "./types.ts";

export interface OpenAiModelOptions {
  /** One or more server base URLs ("http://host:8000" or "http://host:8000/v1"). */
  baseUrls: string | string[];
  /** Model folder whose tokenizer.json and chat template match the served model. */
  tokenizer: string;
  /** The served model's name, sent as `model` (vLLM wants the name it serves). */
  model?: string;
  /** Sent as `Authorization: Bearer ...`. */
  apiKey?: string;
  /** Requests in flight per replica. Default 32: enough for an engine to batch decode steps. */
  concurrency?: number;
  /** Retries after a connection error, a 429 or a 5xx. Default 3. */
  retries?: number;
  /** Limit for one request, retries and waits included, ms. Default 120000. */
  timeoutMs?: number;
  /**
   * Prompt tokens hashed to pick a replica. Prompts sharing at least this many leading tokens go
   * to the same replica; prompts sharing fewer spread over replicas, and each replica then
   * computes their short common part once (fewer than K tokens, N times for N replicas) instead
   * of one replica taking all the load. So K is the shared length from which co-locating pays:
   * default 64 co-locates long shared contexts (a document asked many questions, a multi-turn
   * chat, repeated prompts) while rows that share only a chat header and instruction (14 + 11-17
   * tokens on the shipped model, about 30 + 15 on Qwen2.5) still balance. 64 is four vLLM KV
   * blocks of 16, so the prefix that decides placement is also whole cached blocks.
   */
  affinityTokens?: number;
}

/** The profile key `halo calibrate --url` writes and the cost model reads for a served model. */
export function remoteProfileId(servedModel: string): string {
  return `openai-${servedModel}`;
}

/** Retry waits: 250 ms doubling, capped, unless the server says Retry-After. */
const BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8000;

export class OpenAiModel implements LlmModel {
  readonly id: string;
  /** The served model's name (also the profile key's stem). */
  readonly servedModel: string;
  readonly tokenizer: TextTokenizer;
  readonly router: ReplicaRouter;
  private readonly endpoints: Map<string, string>;
  private readonly options: Required<Pick<OpenAiModelOptions, "retries" | "timeoutMs">> &
    OpenAiModelOptions;

  constructor(options: OpenAiModelOptions) {
    const o = checkOptions(options);
    this.options = { retries: 3, timeoutMs: 120_000, ...o };
    const dir = resolve(o.tokenizer);
    this.tokenizer = new TextTokenizer(dir);
    this.servedModel = o.model ?? basename(dir);
    this.id = remoteProfileId(this.servedModel);
    const urls = (Array.isArray(o.baseUrls) ? o.baseUrls : [o.baseUrls]).map(normalizeBaseUrl);
    this.endpoints = new Map(urls.map((u) => [u, completionsUrl(u)]));
    this.router = new ReplicaRouter(urls, {
      concurrency: o.concurrency ?? 32,
      affinityTokens: o.affinityTokens ?? 64,
    });
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

  encodeChat(messages: ChatMessage[]): number[] {
    return this.tokenizer.encodeChat(messages);
  }

  /** Every request goes out at once; the router's per-replica limits hold the rest back. */
  generate(
    requests: GenerateRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<GenerateResult[]> {
    return Promise.all(requests.map((r) => this.complete(r, options.signal)));
  }

  private async complete(request: GenerateRequest, signal?: AbortSignal): Promise<GenerateResult> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const body = JSON.stringify(requestBody(request, this.servedModel));
    let lastError = "";
    for (let attempt = 0; ; attempt++) {
      let wait = Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** attempt);
      const { replica, release } = await this.router
        .acquire(request.promptTokens, both)
        .catch((e: unknown) => {
          throw this.stopped(both, deadline, e, lastError);
        });
      try {
        const res = await fetch(this.endpoints.get(replica.url)!, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
          },
          body,
          signal: both,
        });
        this.router.markUp(replica);
        const text = await res.text();
        if (res.ok) return this.parseResult(request, text, replica);
        const message = `${replica.url} answered ${res.status}: ${errorMessage(text)}`;
        if (res.status !== 429 && res.status < 500) throw new Error(`openai model: ${message}`);
        lastError = message;
        wait = retryAfterMs(res.headers.get("retry-after")) ?? wait;
      } catch (error) {
        if (both.aborted) throw this.stopped(both, deadline, error, lastError);
        if (error instanceof Error && error.message.startsWith("openai model:")) throw error;
        // fetch failed before an answer: connection refused, reset, DNS
        this.router.markDown(replica);
        lastError = `${replica.url} unreachable (${causeOf(error)})`;
        wait = this.router.replicas.some((r) => r.downUntil === 0) ? 0 : wait;
      } finally {
        release();
      }
      if (attempt >= this.options.retries)
        throw new Error(
          `openai model: gave up after ${attempt + 1} attempts; last: ${lastError} (raise retries, or check the servers)`,
        );
      await sleep(wait, both).catch((e: unknown) => {
        throw this.stopped(both, deadline, e, lastError);
      });
    }
  }

  private stopped(both: AbortSignal, deadline: AbortSignal, error: unknown, last: string): unknown {
    if (deadline.aborted && both.reason === deadline.reason)
      return new Error(
        `openai model: no answer within timeoutMs ${this.options.timeoutMs}${last ? ` (last: ${last})` : ""}: raise timeoutMs or add replicas`,
      );
    return both.reason ?? error;
  }

  private parseResult(request: GenerateRequest, text: string, replica: Replica): GenerateResult {
    let json: CompletionResponse;
    try {
      json = JSON.parse(text) as CompletionResponse;
    } catch {
      throw new Error(`openai model: ${replica.url} answered 200 with a body that is not JSON`);
    }
    const choice = json?.choices?.[0];
    if (!choice || typeof choice.text !== "string")
      throw new Error(
        `openai model: ${replica.url} answered without choices[0].text: is it an OpenAI-compatible /v1/completions?`,
      );
    // Without token ids (an engine lacking return_token_ids) re-encoding the text is the best guess.
    const tokens = Array.isArray(choice.token_ids)
      ? choice.token_ids
      : this.tokenizer.encode(choice.text, false);
    const prompt = request.promptTokens.length;
    const cached = Math.min(prompt, json.usage?.prompt_tokens_details?.cached_tokens ?? 0);
    return {
      text: choice.text,
      tokens,
      finishReason: finishReason(request, choice),
      prefillTokens: prompt - cached,
      cachedTokens: cached,
    };
  }
}

interface CompletionResponse {
  choices?: {
    text?: unknown;
    token_ids?: number[];
    finish_reason?: string;
    stop_reason?: unknown;
  }[];
  usage?: { prompt_tokens_details?: { cached_tokens?: number } | null };
}

function requestBody(request: GenerateRequest, model: string): Record<string, unknown> {
  const s = request.sampling;
  const body: Record<string, unknown> = {
    model,
    prompt: request.promptTokens,
    max_tokens: s.maxTokens,
    // OpenAI's default temperature is 1; the runtime's is greedy.
    temperature: s.temperature ?? 0,
    return_token_ids: true,
  };
  if (s.topP !== undefined) body.top_p = s.topP;
  if (s.seed !== undefined) body.seed = s.seed;
  if (s.stop?.length) body.stop = s.stop;
  if (s.choices?.length) body.guided_choice = s.choices;
  if (s.schema) {
    body.guided_json = s.schema;
    body.response_format = {
      type: "json_schema",
      json_schema: { name: "answer", schema: s.schema },
    };
  }
  return body;
}

/** vLLM's convention: stop_reason is null at end-of-sequence, the matched stop otherwise. */
function finishReason(
  request: GenerateRequest,
  choice: NonNullable<CompletionResponse["choices"]>[number],
): GenerateResult["finishReason"] {
  if (request.sampling.choices?.length) return "choice";
  if (choice.finish_reason === "length") return "length";
  return choice.stop_reason === null || choice.stop_reason === undefined ? "eos" : "stop";
}

function checkOptions(options: OpenAiModelOptions): OpenAiModelOptions {
  const o = options as unknown as Record<string, unknown>;
  if (!o || typeof o !== "object")
    throw new TypeError(
      'halo.openai(options): pass { baseUrls: ["http://host:8000/v1"], tokenizer: "path/to/model-folder" }',
    );
  const urls = Array.isArray(o.baseUrls) ? o.baseUrls : [o.baseUrls];
  if (urls.length === 0 || urls.some((u) => typeof u !== "string" || !isHttpUrl(u)))
    throw new TypeError(
      `halo.openai: baseUrls must be an http(s) URL or a non-empty array of them, e.g. "http://127.0.0.1:8000/v1" (got ${JSON.stringify(o.baseUrls)})`,
    );
  if (typeof o.tokenizer !== "string" || o.tokenizer === "")
    throw new TypeError(
      "halo.openai: tokenizer must be a model folder holding tokenizer.json and tokenizer_config.json (the served model's own, so token ids match)",
    );
  for (const name of ["model", "apiKey"] as const)
    if (o[name] !== undefined && typeof o[name] !== "string")
      throw new TypeError(`halo.openai: ${name} must be a string`);
  for (const [name, min] of [
    ["concurrency", 1],
    ["retries", 0],
    ["timeoutMs", 1],
    ["affinityTokens", 1],
  ] as const) {
    const v = o[name];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min))
      throw new TypeError(`halo.openai: ${name} must be an integer >= ${min} (got ${String(v)})`);
  }
  return options;
}

function isHttpUrl(u: string): boolean {
  try {
    const p = new URL(u).protocol;
    return p === "http:" || p === "https:";
  } catch {
    return false;
  }
}

function normalizeBaseUrl(u: string): string {
  return u.replace(/\/+$/, "");
}

/** OpenAI clients' base URLs end in /v1; bare server roots are accepted too. */
function completionsUrl(base: string): string {
  return /\/v1$/.test(base) ? `${base}/completions` : `${base}/v1/completions`;
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

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** `halo.openai({...})`: an LlmModel to register with `halo.models.register(name, model)`. */
export function createOpenAiModel(options: OpenAiModelOptions): OpenAiModel {
  return new OpenAiModel(options);
}
