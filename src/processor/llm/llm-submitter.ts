// What the pipeline needs to run LLM requests: submit one, get its answer. Two implementations:
// the LlmWorker (continuous batching + prefix cache, over a model exposing the runtime's forward
// API) and `GenerateBatcher` (any model with only `generate(requests[])`: requests arriving in the
// same turn of the event loop go out as one batched call).
import type { LlmModel } from "../../executor/types.ts";
import type { GenerateRequest, GenerateResult } from "../../runtime/types.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";

export interface LlmSubmitter {
  submit(
    request: GenerateRequest,
    options?: { signal?: AbortSignal; nodeIds?: number[] },
  ): Promise<GenerateResult>;
}

interface Pending {
  request: GenerateRequest;
  nodeIds: number[];
  signal?: AbortSignal;
  resolve: (r: GenerateResult) => void;
  reject: (e: unknown) => void;
}

export class GenerateBatcher implements LlmSubmitter {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly model: LlmModel,
    private readonly options: {
      trace?: TraceRecorder;
      lane?: string;
      signal?: AbortSignal;
      /** Most requests per generate call. Default 64. */
      maxBatch?: number;
    } = {},
  ) {}

  submit(
    request: GenerateRequest,
    options: { signal?: AbortSignal; nodeIds?: number[] } = {},
  ): Promise<GenerateResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        request,
        nodeIds: options.nodeIds ?? [],
        signal: options.signal,
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
    const ids = new Set<number>();
    for (const p of batch) for (const id of p.nodeIds) ids.add(id);
    const task = this.options.trace?.begin(this.options.lane ?? "llm:0", "decode", [...ids]);
    try {
      const results = await this.model.generate(
        batch.map((p) => p.request),
        { signal: this.options.signal },
      );
      task?.end({
        batchSize: batch.length,
        prefillTokens: results.reduce((n, r) => n + r.prefillTokens, 0),
        cachedTokens: results.reduce((n, r) => n + r.cachedTokens, 0),
        decodeTokens: results.reduce((n, r) => n + r.tokens.length, 0),
      });
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      task?.end({ batchSize: batch.length, error: String(error) });
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
