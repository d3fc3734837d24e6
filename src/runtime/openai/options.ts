// `halo.openai({...})`'s options: what each means, their defaults, and the check that names a bad
// one and what to pass (a TypeError at once, not a failure on the first row).
import type { RateLimits } from "./rate-limiter.ts";
import { checkPrice, type ModelPrice } from "../../cost/price.ts";

/**
 * How prompts go out:
 * - "tokens": token ids to `/v1/completions` with `return_token_ids` (vLLM, SGLang, `halo serve`):
 *   the engine runs exactly the ids the local runtime would; needs `tokenizer`.
 * - "chat": messages to `/v1/chat/completions`; the server applies its chat template. Any
 *   OpenAI-compatible server (Ollama, llama.cpp, LM Studio, TGI, hosted APIs); no tokenizer needed.
 * - "completions": text to `/v1/completions`: the chat template of `tokenizer` rendered here when
 *   one is given, else the messages' text joined by blank lines.
 */
export type OpenAiMode = "tokens" | "chat" | "completions";

/**
 * How choices and schemas are sent (structured-output.ts):
 * - "openai": `response_format: { type: "json_schema" }` (OpenAI, vLLM, SGLang, llama.cpp, LM
 *   Studio, Ollama); choices as a one-property object `{"answer": <one of them>}`.
 * - "vllm": `structured_outputs: { choice | json }` (vLLM 0.10.2 and later; the only form from 0.12).
 * - "guided": `guided_choice` / `guided_json` plus `response_format` (vLLM before 0.12, `halo serve`).
 * - "llamacpp": `grammar` (GBNF) for choices, `json_schema` for schemas (llama.cpp's server).
 * - "none": the server cannot constrain: the choices or the schema are written into the prompt.
 * The answer is validated on return whatever the flavour; one that breaks it is that row's error.
 */
export type StructuredOutputFlavour = "openai" | "vllm" | "guided" | "llamacpp" | "none";

export const FLAVOURS: readonly StructuredOutputFlavour[] = [
  "openai",
  "vllm",
  "guided",
  "llamacpp",
  "none",
];
const MODES: readonly OpenAiMode[] = ["tokens", "chat", "completions"];

export interface OpenAiModelOptions {
  /** One or more server base URLs ("http://host:8000" or "http://host:8000/v1"). */
  baseUrls: string | string[];
  /** Default "tokens" when `tokenizer` is given, else "chat". */
  mode?: OpenAiMode;
  /**
   * A model folder whose tokenizer.json and chat template match the served model. Required for
   * "tokens"; in the other modes it renders the "completions" template and counts tokens where a
   * server reports no `usage`.
   */
  tokenizer?: string;
  /** The served model's name, sent as `model`; required without `tokenizer`. */
  model?: string;
  /** Sent as `Authorization: Bearer ...`. */
  apiKey?: string;
  /** Default "guided" in "tokens" mode (what it always sent), else "openai". */
  structuredOutput?: StructuredOutputFlavour;
  /**
   * Requests and tokens per minute each server allows (`rpm`, `tpm`), as its operator states
   * them; the `x-ratelimit-*` headers a server sends are respected as well, with or without these.
   */
  limits?: RateLimits;
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
   * blocks of 16, so the prefix that decides placement is also whole cached blocks. In "chat" and
   * "completions" modes a token here is 4 bytes of the messages' text (prompt-handle.ts).
   */
  affinityTokens?: number;
  /**
   * What the served model's tokens cost, US dollars per million: `{ inputPer1M, outputPer1M,
   * cachedInputPer1M? }`. Estimates (`lf.estimate()`) and `collect({ budget: { usd } })` use it.
   */
  price?: ModelPrice;
}

/** The options with defaults applied, as the model uses them. */
export interface ResolvedOptions {
  urls: string[];
  mode: OpenAiMode;
  tokenizer: string | undefined;
  model: string | undefined;
  apiKey: string | undefined;
  flavour: StructuredOutputFlavour;
  limits: RateLimits;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  affinityTokens: number;
  price: ModelPrice | undefined;
}

const where = "halo.openai";

export function resolveOptions(options: OpenAiModelOptions): ResolvedOptions {
  const o = options as unknown as Record<string, unknown>;
  if (!o || typeof o !== "object")
    throw new TypeError(
      `${where}(options): pass { baseUrls: ["http://host:8000/v1"], model: "served-name" } (chat) or { baseUrls, tokenizer: "path/to/model-folder" } (token ids)`,
    );
  const known = [
    "baseUrls",
    "mode",
    "tokenizer",
    "model",
    "apiKey",
    "structuredOutput",
    "limits",
    "concurrency",
    "retries",
    "timeoutMs",
    "affinityTokens",
    "price",
  ];
  for (const k of Object.keys(o))
    if (!known.includes(k))
      throw new TypeError(`${where}: unknown option '${k}' (known: ${known.join(", ")})`);
  const urls = Array.isArray(o.baseUrls) ? o.baseUrls : [o.baseUrls];
  if (urls.length === 0 || urls.some((u) => typeof u !== "string" || !isHttpUrl(u)))
    throw new TypeError(
      `${where}: baseUrls must be an http(s) URL or a non-empty array of them, e.g. "http://127.0.0.1:8000/v1" (got ${JSON.stringify(o.baseUrls)})`,
    );
  if (o.tokenizer !== undefined && (typeof o.tokenizer !== "string" || o.tokenizer === ""))
    throw new TypeError(
      `${where}: tokenizer must be a model folder holding tokenizer.json and tokenizer_config.json (the served model's own, so token ids match)`,
    );
  for (const name of ["model", "apiKey"] as const)
    if (o[name] !== undefined && (typeof o[name] !== "string" || o[name] === ""))
      throw new TypeError(`${where}: ${name} must be a non-empty string`);
  if (o.mode !== undefined && !MODES.includes(o.mode as OpenAiMode))
    throw new TypeError(
      `${where}: mode must be one of ${MODES.join(", ")} (got ${JSON.stringify(o.mode)})`,
    );
  const mode = (o.mode as OpenAiMode | undefined) ?? (o.tokenizer ? "tokens" : "chat");
  if (mode === "tokens" && o.tokenizer === undefined)
    throw new TypeError(
      `${where}: tokenizer must be a model folder holding tokenizer.json and tokenizer_config.json (mode "tokens" sends token ids); for a server that takes text, use mode: "chat"`,
    );
  if (mode !== "tokens" && o.tokenizer === undefined && o.model === undefined)
    throw new TypeError(
      `${where}: model must name the served model (mode "${mode}" has no tokenizer folder to take the name from), e.g. model: "llama3.2"`,
    );
  if (o.structuredOutput !== undefined && !FLAVOURS.includes(o.structuredOutput as never))
    throw new TypeError(
      `${where}: structuredOutput must be one of ${FLAVOURS.join(", ")} (got ${JSON.stringify(o.structuredOutput)})`,
    );
  const flavour =
    (o.structuredOutput as StructuredOutputFlavour | undefined) ??
    (mode === "tokens" ? "guided" : "openai");
  if (mode === "tokens" && flavour === "none")
    throw new TypeError(
      `${where}: structuredOutput "none" writes choices into the prompt's text, which mode "tokens" does not send: use mode "chat" or "completions"`,
    );
  const limits = checkLimits(o.limits);
  for (const [name, min] of [
    ["concurrency", 1],
    ["retries", 0],
    ["timeoutMs", 1],
    ["affinityTokens", 1],
  ] as const) {
    const v = o[name];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min))
      throw new TypeError(`${where}: ${name} must be an integer >= ${min} (got ${String(v)})`);
  }
  return {
    urls: (urls as string[]).map((u) => u.replace(/\/+$/, "")),
    mode,
    tokenizer: o.tokenizer as string | undefined,
    model: o.model as string | undefined,
    apiKey: o.apiKey as string | undefined,
    flavour,
    limits,
    concurrency: (o.concurrency as number | undefined) ?? 32,
    retries: (o.retries as number | undefined) ?? 3,
    timeoutMs: (o.timeoutMs as number | undefined) ?? 120_000,
    affinityTokens: (o.affinityTokens as number | undefined) ?? 64,
    price: o.price === undefined ? undefined : checkPrice(o.price, where),
  };
}

function checkLimits(value: unknown): RateLimits {
  if (value === undefined) return {};
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(`${where}: limits must be an object such as { rpm: 500, tpm: 200000 }`);
  const out: RateLimits = {};
  for (const [k, v] of Object.entries(value)) {
    if (k !== "rpm" && k !== "tpm")
      throw new TypeError(`${where}: limits.${k} is not a limit (known: rpm, tpm)`);
    if (!(Number.isInteger(v) && (v as number) >= 1))
      throw new TypeError(
        `${where}: limits.${k} must be a whole number per minute >= 1 (got ${String(v)})`,
      );
    out[k] = v as number;
  }
  return out;
}

function isHttpUrl(u: string): boolean {
  try {
    const p = new URL(u).protocol;
    return p === "http:" || p === "https:";
  } catch {
    return false;
  }
}
