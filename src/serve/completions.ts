// `/v1/completions` for a local model (the shipped one by default), in the OpenAI shape plus the
// two vLLM extensions Halo's own OpenAI backend sends (`guided_choice`, `return_token_ids`), so one
// Halo can use another as its engine. Every request goes to the Processor's worker for the model
// (the server's Processor, which its workflows run on too): concurrent requests share decode steps
// and prompts sharing a prefix reuse its KV, exactly as rows of a collect() do, and the cost model
// learns from these forward calls as from a collect's.
//
// Greedy answers equal `Model.generate` on the same token ids (the worker's invariant), which is
// what lets the remote backend (src/runtime/openai-model.ts) match the local runtime exactly.
import { randomUUID } from "node:crypto";
import type { LlmSubmitter } from "../processor/llm/llm-submitter.ts";
import { Processor } from "../processor/processor.ts";
import type { RunSink } from "../processor/trace/run-sink.ts";
import type { TraceRecorder } from "../processor/trace/trace-recorder.ts";
import { getModel, loadSourceModel, shippedModelDir, type Model } from "../runtime/index.ts";
import type { ResolvedModelSource } from "../runtime/model-source.ts";
import type { GenerateResult } from "../runtime/types.ts";
import { parseCompletionRequest, type CompletionRequest } from "./completion-request.ts";
import { HttpError } from "./http-error.ts";

export interface CompletionsService {
  handle(body: unknown, signal: AbortSignal): Promise<unknown>; // the response JSON
  close(): Promise<void>;
}

export interface CompletionsServiceOptions {
  /** A model folder, or a resolved source (a hub snapshot, a dtype); default: the shipped model. */
  model?: string | ResolvedModelSource;
  /** Records the forward calls these requests are part of (tests, metrics); default: none kept. */
  trace?: TraceRecorder;
  /** Whose workers serve it (the server's); default: a Processor of its own. */
  processor?: Processor;
}

interface Engine {
  model: Model;
  submitter: LlmSubmitter;
}

export function createCompletionsService(
  options: CompletionsServiceOptions = {},
): CompletionsService {
  const closing = new AbortController();
  const processor = options.processor ?? new Processor();
  // The key collect() names the shipped model by, so both share its cost profile; a folder is
  // its path, a hub source its identity.
  const m = options.model;
  const modelKey = m === undefined ? "shipped" : typeof m === "string" ? m : m.identity;
  const sink: RunSink | undefined = options.trace && {
    trace: options.trace,
    lane: "serve:completions",
  };
  let engine: Promise<Engine> | undefined;
  const start = (): Promise<Engine> => {
    const model = options.model ?? shippedModelDir();
    engine ??= (typeof model === "string" ? getModel(model) : loadSourceModel(model)).then(
      async (model) => ({
        model,
        submitter: await processor.llmWorker(model, modelKey, 0, processor.config),
      }),
    );
    engine.catch(() => (engine = undefined));
    return engine;
  };

  return {
    async handle(body, signal) {
      if (closing.signal.aborted)
        throw new HttpError(503, "the server is shutting down: retry on another replica");
      const request = parseCompletionRequest(body);
      const { model, submitter } = await start();
      const prompts = request.prompts.map((p, i) => toTokens(model, p, i, request));
      const both = AbortSignal.any([signal, closing.signal]);
      const results = await Promise.all(
        prompts.map((promptTokens) =>
          submitter.submit({ promptTokens, sampling: request.sampling }, { signal: both, sink }),
        ),
      );
      return buildResponse(request, model, prompts, results);
    },
    async close() {
      closing.abort(new HttpError(503, "the server shut down before this request finished"));
    },
  };
}

/** Token ids of one prompt, checked against the model (400 when they cannot run). */
function toTokens(model: Model, prompt: string | number[], i: number, r: CompletionRequest) {
  const where = r.prompts.length > 1 ? `prompt[${i}]` : "prompt";
  const tokens = typeof prompt === "string" ? model.encode(prompt) : prompt;
  if (tokens.length === 0)
    throw new HttpError(400, `"${where}" is empty: send at least one character or token id`);
  const vocab = model.config.vocabSize;
  for (const id of tokens)
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new HttpError(
        400,
        `"${where}" holds token id ${id}, outside this model's vocabulary [0, ${vocab}): send ids from its tokenizer, or text`,
      );
  const limit = model.config.maxPositions;
  if (tokens.length >= limit)
    throw new HttpError(
      400,
      `"${where}" has ${tokens.length} tokens but this model has ${limit} positions: shorten it`,
    );
  return tokens;
}

function buildResponse(
  request: CompletionRequest,
  model: Model,
  prompts: number[][],
  results: GenerateResult[],
) {
  let promptTokens = 0;
  let completionTokens = 0;
  let cachedTokens = 0;
  const choices = results.map((r, index) => {
    promptTokens += prompts[index]!.length;
    completionTokens += r.tokens.length;
    cachedTokens += r.cachedTokens;
    return {
      index,
      text: r.text,
      logprobs: null,
      finish_reason: r.finishReason === "length" ? "length" : "stop",
      // vLLM's field: null for end-of-sequence (and a finished choice), else what stopped it.
      // The runtime does not say which of several stop strings matched: all are listed then.
      stop_reason: r.finishReason === "stop" ? stopReason(request.sampling.stop) : null,
      ...(request.returnTokenIds ? { prompt_token_ids: prompts[index], token_ids: r.tokens } : {}),
    };
  });
  return {
    id: `cmpl-${randomUUID().replaceAll("-", "")}`,
    object: "text_completion",
    created: Math.floor(Date.now() / 1000),
    model: request.model ?? model.id,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cachedTokens },
    },
  };
}

function stopReason(stop: string[] | undefined): string | string[] | null {
  if (!stop) return null;
  return stop.length === 1 ? stop[0]! : stop;
}
