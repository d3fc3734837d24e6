// The local model behind `halo serve`'s OpenAI routes (src/serve/openai/): the shipped model by
// default, or `--model`. Every request goes to the Processor's worker for the model (the server's
// Processor, which its workflows run on too): concurrent requests share decode steps and prompts
// sharing a prefix reuse its KV, exactly as rows of a collect() do, and the cost model learns from
// these forward calls as from a collect's (`workerFor` is the one place that picks the worker).
//
// Greedy answers equal `Model.generate` on the same token ids (the worker's invariant), which is
// what lets the remote backend (src/runtime/openai-model.ts) match the local runtime exactly.
import { basename } from "node:path";
import type { LlmSubmitter } from "../processor/llm/llm-submitter.ts";
import { Processor } from "../processor/processor.ts";
import type { RunSink } from "../processor/trace/run-sink.ts";
import type { TraceRecorder } from "../processor/trace/trace-recorder.ts";
import { getModel, loadSourceModel, shippedModelDir, type Model } from "../runtime/index.ts";
import type { ResolvedModelSource } from "../runtime/model-source.ts";
import type { GenerateRequest, GenerateResult } from "../runtime/types.ts";
import { HttpError } from "./http-error.ts";
import { completionsAnswer } from "./openai/completions-endpoint.ts";
import { parseCompletionRequest } from "./openai/completion-request.ts";

export interface CompletionsService {
  /** The name `GET /v1/models` lists the served model under. */
  readonly modelName: string;
  /** The model (tokenizer, chat template, limits), loaded on first use. */
  model(): Promise<Model>;
  /**
   * Takes room for `answers` more answers, or throws: 413 for more than the whole bound, 429
   * (with Retry-After) while the bound is full. Call the returned function when they are done.
   */
  admit(answers: number): () => void;
  /** Runs requests in the shared continuous batch (each `onText` streams its answer). */
  generate(requests: GenerateRequest[], signal: AbortSignal): Promise<GenerateResult[]>;
  /** `POST /v1/completions` without streaming: the answer's JSON (in-process servers, tests). */
  handle(body: unknown, signal: AbortSignal): Promise<unknown>;
  close(): Promise<void>;
}

export interface CompletionsServiceOptions {
  /** A model folder, or a resolved source (a hub snapshot, a dtype); default: the shipped model. */
  model?: string | ResolvedModelSource;
  /** Records the forward calls these requests are part of (tests, metrics); default: none kept. */
  trace?: TraceRecorder;
  /**
   * Answers waiting or running at once (`n` answers per prompt count as n), the bound workflows
   * have in `--max-queue`: one client cannot queue unbounded work. Default 1,024.
   */
  maxAnswers?: number;
  /** Whose workers serve it (the server's); default: a Processor of its own. */
  processor?: Processor;
}

interface Engine {
  model: Model;
  submitter: LlmSubmitter;
}

/** The served model's name: a hub id as written, else the folder's name ("halo-tiny"). */
function nameOf(model: string | ResolvedModelSource | undefined): string {
  if (model === undefined) return basename(shippedModelDir());
  if (typeof model === "string") return basename(model);
  return model.hub?.repo ?? basename(model.dir);
}

export function createCompletionsService(
  options: CompletionsServiceOptions = {},
): CompletionsService {
  const closing = new AbortController();
  const maxAnswers = options.maxAnswers ?? 1024;
  let answering = 0;
  const processor = options.processor ?? new Processor();
  const sink: RunSink | undefined = options.trace && {
    trace: options.trace,
    lane: "serve:completions",
  };
  let engine: Promise<Engine> | undefined;
  const start = (): Promise<Engine> => {
    if (closing.signal.aborted)
      throw new HttpError(503, "the server is shutting down: retry on another replica");
    const source = options.model ?? shippedModelDir();
    engine ??= (typeof source === "string" ? getModel(source) : loadSourceModel(source)).then(
      async (model) => ({ model, submitter: await workerFor(processor, model, options.model) }),
    );
    engine.catch(() => (engine = undefined));
    return engine;
  };

  const service: CompletionsService = {
    modelName: nameOf(options.model),
    async model() {
      return (await start()).model;
    },
    admit(answers) {
      if (answers > maxAnswers)
        throw new HttpError(
          413,
          `${answers} answers in one request, more than this server runs at once (${maxAnswers}): ask for fewer (n, prompts)`,
        );
      if (answering + answers > maxAnswers)
        throw new HttpError(
          429,
          `${answering} answers are running, the most this server takes is ${maxAnswers}: retry later`,
          { "Retry-After": "1" },
        );
      answering += answers;
      let done = false;
      return () => {
        if (!done) answering -= answers;
        done = true;
      };
    },
    async generate(requests, signal) {
      const { submitter } = await start();
      const both = AbortSignal.any([signal, closing.signal]);
      return Promise.all(requests.map((r) => submitter.submit(r, { signal: both, sink })));
    },
    async handle(body, signal) {
      const request = parseCompletionRequest(body);
      if (request.stream)
        throw new HttpError(
          400,
          `"stream": true needs halo serve's HTTP route`,
          {},
          {
            param: "stream",
          },
        );
      return completionsAnswer(service, request, signal);
    },
    async close() {
      closing.abort(new HttpError(503, "the server shut down before this request finished"));
    },
  };
  return service;
}

/**
 * The worker the served model's requests join: the Processor's worker for the model (replica 0,
 * under the Processor's settings), the one its workflow runs submit to as well. Named by the key
 * collect() names the model by, so both share its cost profile: "shipped" for the shipped model,
 * a folder's path, a hub source's identity.
 */
function workerFor(
  processor: Processor,
  model: Model,
  source: string | ResolvedModelSource | undefined,
): Promise<LlmSubmitter> {
  const modelKey =
    source === undefined ? "shipped" : typeof source === "string" ? source : source.identity;
  return processor.llmWorker(model, modelKey, 0, processor.config);
}
