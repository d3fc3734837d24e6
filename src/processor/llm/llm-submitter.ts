// What the pipeline needs to run LLM requests: submit one, get its answer. Two implementations:
// the LlmWorker (continuous batching + prefix cache, over a model exposing the runtime's forward
// API) and `GenerateBatcher` (any model with only `generate(requests[])`: requests arriving in the
// same turn of the event loop go out as one batched call).
import type { LlmModel } from "../../executor/types.ts";
import type { GenerateRequest, GenerateResult } from "../../runtime/types.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";
import { BatchTasks, type RunSink } from "../trace/run-sink.ts";

export interface SubmitOptions {
  signal?: AbortSignal;
  /** Plan nodes the request serves (trace). */
  nodeIds?: number[];
  /** The run it belongs to: the calls it is part of go into that run's trace. */
  sink?: RunSink;
}

export interface LlmSubmitter {
  submit(request: GenerateRequest, options?: SubmitOptions): Promise<GenerateResult>;
}

interface Pending {
  request: GenerateRequest;
  nodeIds: number[];
  sink: RunSink | undefined;
  signal: AbortSignal | undefined;
  result?: GenerateResult;
  resolve: (r: GenerateResult) => void;
  reject: (e: unknown) => void;
}

export class GenerateBatcher implements LlmSubmitter {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly model: LlmModel,
    private readonly options: {
      /** Where requests without a sink of their own are recorded, on `lane` (default "llm:0"). */
      trace?: TraceRecorder;
      lane?: string;
      signal?: AbortSignal;
      /** Most requests per generate call. Default 64. */
      maxBatch?: number;
    } = {},
  ) {}

  submit(request: GenerateRequest, options: SubmitOptions = {}): Promise<GenerateResult> {
    const { trace, lane = "llm:0" } = this.options;
    return new Promise((resolve, reject) => {
      this.pending.push({
        request,
        nodeIds: options.nodeIds ?? [],
        sink: options.sink ?? (trace && { trace, lane }),
        signal: options.signal ?? this.options.signal,
        resolve,
        reject,
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const max = this.options.maxBatch ?? 64;
    while (this.pending.length > 0) void this.run(this.pending.splice(0, max));
  }

  private async run(batch: Pending[]): Promise<void> {
    // A whole generate() call is one task: prefill and every step, not to be told apart.
    const tasks = new BatchTasks(batch, "decode");
    const everyOneCancellable = batch.every((p) => p.signal !== undefined);
    const signals = [...new Set(batch.map((p) => p.signal!))];
    try {
      const results = await this.model.generate(
        batch.map((p) => p.request),
        // The call serves every request in it: it stops only when all of them are cancelled
        // (requests of one run share its signal, so most batches have one).
        { signal: everyOneCancellable ? whenAllAbort(signals) : undefined },
      );
      batch.forEach((p, i) => (p.result = results[i]!));
      const sum = (own: readonly Pending[], pick: (r: GenerateResult) => number) =>
        own.reduce((n, p) => n + pick(p.result!), 0);
      tasks.end(
        (p) => p.result!.prefillTokens + p.result!.tokens.length,
        (own) => ({
          prefillTokens: sum(own, (r) => r.prefillTokens),
          cachedTokens: sum(own, (r) => r.cachedTokens),
          decodeTokens: sum(own, (r) => r.tokens.length),
        }),
      );
      batch.forEach((p) => p.resolve(p.result!));
    } catch (error) {
      tasks.fail(error);
      // One bad request must not fail its batch mates: retry them one by one. Not those whose
      // run was cancelled: thousands of requests retried alone after an interrupt kept a
      // collect({ onError: "null" }) waiting 260 s instead of resolving at once.
      const live = batch.filter((p) => !p.signal?.aborted && !this.options.signal?.aborted);
      for (const p of batch) if (!live.includes(p)) p.reject(error);
      if (batch.length > 1) {
        for (const p of live) void this.run([p]);
        return;
      }
      live[0]?.reject(error);
    }
  }
}

/** A signal that aborts once every one of `signals` has (the last one's reason). */
function whenAllAbort(signals: AbortSignal[]): AbortSignal | undefined {
  if (signals.length === 1) return signals[0];
  const controller = new AbortController();
  const check = () => {
    if (signals.every((s) => s.aborted)) controller.abort(signals.at(-1)!.reason);
  };
  for (const s of signals) s.addEventListener("abort", check, { once: true });
  check();
  return controller.signal;
}
