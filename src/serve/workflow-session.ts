// One registered workflow being served: arriving queries wait in a queue, are cut into
// mini-batches (batch-cadence.ts: at once when idle, the whole backlog up to a latency target when
// busy), and each mini-batch runs as one plan through the same passes as collect() on the
// server's Processor, so dedupe, prefix grouping, the prefix KV cache (the Processor's, per model)
// and the tool-result cache work across clients and across batches. Two mini-batches in flight
// share the Processor's LLM workers: their sequences meet in one continuous batch, and each
// batch's run report shows the forward calls it took part in.
//
// Every accepted query ends exactly once, answered or failed: a row error (onError "null") fails
// that query only (every render of its values happens in its row's boundary); a batch-wide
// failure, which no query's value should be able to cause, runs the batch again in halves until
// the failing queries are alone, so one poisoned query still fails only itself; a
// per-query timeout answers "timeout" (the batch keeps running for the others), and shutdown
// (drain) fails what is still queued when its deadline passes. Nothing is dropped silently.
import { ERRORS_COLUMN, type ExecutorServices } from "../executor/types.ts";
import { runPlans } from "../frame/collect.ts";
import type { RunReport } from "../frame/run-report.ts";
import type { Workflow } from "../frame/workflow.ts";
import type { Row } from "../plan/types.ts";
import type { Processor } from "../processor/processor.ts";
import { BatchCadence, type CadenceOptions } from "./batch-cadence.ts";
import { HttpError } from "./http-error.ts";
import type { QueryOutcome, ServerMetrics } from "./metrics.ts";

/** The column that carries a query's id through the plan (templates never read it). */
const QUERY_ID = "__halo_query";

export interface QueryAnswer {
  outcome: QueryOutcome;
  /** The output row (input columns plus every node's output), when outcome is "ok". */
  row?: Row;
  error?: string;
  latencyMs: number;
}

export interface SessionOptions extends CadenceOptions {
  processor: Processor;
  metrics: ServerMetrics;
  services?: ExecutorServices;
  /** Most queries waiting (default 1,024); more get 429. */
  maxQueue?: number;
  /** Per query, from arrival (default 120 s). */
  timeoutMs?: number;
  /**
   * Mini-batches running at once (default 2). The Processor's LLM workers serve both: a second
   * batch's requests join the first's continuous batch, so arrivals need not wait for the
   * slowest row of the batch before them; more than 2 only splits the stream thinner.
   */
  maxInFlight?: number;
  /** Gets each mini-batch's run report (its trace, tokens, timings) once it has run. */
  onReport?: (report: RunReport) => void;
}

interface Pending {
  id: number;
  row: Row;
  arrived: number;
  timer: NodeJS.Timeout;
  done: boolean;
  resolve: (answer: QueryAnswer) => void;
}

export class WorkflowSession {
  private readonly queue: Pending[] = [];
  /** Mini-batches now running, with their queries. */
  private readonly batches = new Map<Promise<void>, Pending[]>();
  private scheduled = false;
  private nextId = 0;
  private closing = false;
  private readonly abort = new AbortController();
  private readonly cadence: BatchCadence;
  readonly maxQueue: number;
  readonly timeoutMs: number;
  readonly maxInFlight: number;

  constructor(
    readonly name: string,
    readonly workflow: Workflow,
    private readonly options: SessionOptions,
  ) {
    this.cadence = new BatchCadence(options);
    this.maxQueue = options.maxQueue ?? 1024;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxInFlight = options.maxInFlight ?? 2;
    if (!(Number.isInteger(this.maxInFlight) && this.maxInFlight >= 1))
      throw new RangeError(`maxInFlight must be an integer >= 1 (got ${this.maxInFlight})`);
  }

  get queued(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    let n = 0;
    for (const batch of this.batches.values()) n += batch.length;
    return n;
  }

  /**
   * Checks and queues queries; one promise per query, in order. All or none: a request whose
   * queries do not all fit in the queue, or one that is malformed, queues nothing.
   */
  submit(rows: readonly unknown[], signal?: AbortSignal): Promise<QueryAnswer>[] {
    if (this.closing) throw new HttpError(503, "the server is shutting down; retry elsewhere");
    // More than the whole queue can never fit: not a "retry later" (429) but a request to split.
    if (rows.length > this.maxQueue)
      throw new HttpError(
        413,
        `workflow '${this.name}': ${rows.length} queries in one request, more than its queue holds (${this.maxQueue}); send at most ${this.maxQueue} per request`,
      );
    rows.forEach((row, i) => this.check(row, i));
    if (this.queue.length + rows.length > this.maxQueue) {
      const waitMs = this.cadence.estimateMs(this.queue.length) ?? 1000;
      throw new HttpError(
        429,
        `workflow '${this.name}': queue full (${this.queue.length} waiting, limit ${this.maxQueue}); retry later`,
        { "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))) },
      );
    }
    const answers = rows.map(
      (row) =>
        new Promise<QueryAnswer>((resolve) => {
          const pending: Pending = {
            id: this.nextId++,
            row: row as Row,
            arrived: performance.now(),
            done: false,
            resolve,
            timer: setTimeout(() => {
              this.dequeue(pending);
              this.finish(pending, {
                outcome: "timeout",
                error: `no answer within ${this.timeoutMs} ms`,
              });
            }, this.timeoutMs),
          };
          this.queue.push(pending);
          // A client that leaves takes its still-queued queries with it (they are not answered
          // to anyone); queries already running finish for the cache's sake.
          signal?.addEventListener(
            "abort",
            () => {
              if (this.dequeue(pending))
                this.finish(pending, { outcome: "failed", error: "client went away" });
            },
            { once: true },
          );
        }),
    );
    this.schedule();
    return answers;
  }

  /**
   * Stops taking queries and waits for the queue and the running batch; what is left at
   * `deadlineMs` fails with a message saying so.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.closing = true;
    const deadline = performance.now() + deadlineMs;
    while ((this.queue.length > 0 || this.batches.size > 0) && performance.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const wait = this.batches.size > 0 ? Math.max(0, deadline - performance.now()) : 20;
      await Promise.race([
        ...this.batches.keys(),
        new Promise((r) => (timer = setTimeout(r, wait))),
      ]);
      // A timer left behind would keep the process alive for the whole deadline.
      clearTimeout(timer);
    }
    for (const p of this.queue.splice(0))
      this.finish(p, { outcome: "failed", error: "server shut down before this query ran" });
    if (this.batches.size > 0) {
      this.abort.abort(new Error("server shut down while this query ran"));
      await Promise.all(this.batches.keys());
    }
  }

  /** A query must be a plain object that the workflow accepts (its input columns exist). */
  private check(row: unknown, index: number): void {
    if (!row || typeof row !== "object" || Array.isArray(row))
      throw new HttpError(400, `query ${index}: expected a JSON object of column values`);
    if (QUERY_ID in row)
      throw new HttpError(400, `query ${index}: the column name '${QUERY_ID}' is reserved`);
    try {
      // Compiling the workflow over the one row checks every template and input column; nothing
      // runs (frames are lazy).
      this.workflow.run([row]);
    } catch (err) {
      throw new HttpError(400, `query ${index}: ${(err as Error).message}`);
    }
  }

  private schedule(): void {
    // Queries arriving in the same turn of the event loop (one request's array, or clients
    // racing) share the batch; beyond that an idle session never waits.
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.batches.size < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.cadence.nextBatchSize(this.queue.length));
      const run: Promise<void> = this.runBatch(batch).finally(() => {
        this.batches.delete(run);
        this.pump();
      });
      this.batches.set(run, batch);
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const failure = await this.runQueries(batch);
    if (failure === undefined) return;
    if (batch.length === 1 || this.abort.signal.aborted) {
      for (const p of batch) this.finish(p, { outcome: "failed", error: failure });
      return;
    }
    // Halves until the queries that fail are alone: a few runs for one poisoned query.
    const half = Math.ceil(batch.length / 2);
    await this.runBatch(batch.slice(0, half));
    await this.runBatch(batch.slice(half));
  }

  /** Runs queries as one plan and answers each; returns the message when the plan failed whole. */
  private async runQueries(batch: Pending[]): Promise<string | undefined> {
    const started = performance.now();
    let report: RunReport | undefined;
    try {
      const frame = this.workflow.run(batch.map((p) => ({ ...p.row, [QUERY_ID]: p.id })));
      const [result] = await runPlans(
        [frame.node],
        { onError: "null", progress: false, reuse: false, signal: this.abort.signal },
        {
          processor: this.options.processor,
          services: this.options.services,
          onReport: (r) => {
            report = r;
            this.options.onReport?.(r);
          },
        },
      );
      const byId = new Map<number, Row>();
      for (const row of result!.rows) byId.set(row[QUERY_ID] as number, row);
      for (const p of batch) {
        const out = byId.get(p.id);
        if (!out) {
          this.finish(p, { outcome: "ok", row: undefined });
          continue;
        }
        const { [QUERY_ID]: _id, [ERRORS_COLUMN]: errors, ...row } = out;
        if (errors !== null && errors !== undefined)
          this.finish(p, { outcome: "failed", error: String(errors), row });
        else this.finish(p, { outcome: "ok", row });
      }
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      this.learn(batch.length, performance.now() - started, report);
    }
  }

  private learn(n: number, wallMs: number, report: RunReport | undefined): void {
    let estimated = 0;
    let prefill = 0;
    let cached = 0;
    for (const node of report?.nodes ?? []) {
      estimated += node.estimatedMs ?? 0;
      prefill += node.prefillTokens;
      cached += node.cachedTokens;
    }
    this.cadence.observe(n, wallMs, estimated > 0 ? estimated : undefined);
    this.options.metrics.recordBatch(this.name, n, { prefill, cached }, report?.toolCalls ?? 0);
  }

  private dequeue(p: Pending): boolean {
    const at = this.queue.indexOf(p);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    return true;
  }

  private finish(p: Pending, answer: Omit<QueryAnswer, "latencyMs">): void {
    if (p.done) return;
    p.done = true;
    clearTimeout(p.timer);
    const latencyMs = performance.now() - p.arrived;
    this.options.metrics.recordQuery(this.name, answer.outcome, latencyMs);
    p.resolve({ ...answer, latencyMs });
  }
}
