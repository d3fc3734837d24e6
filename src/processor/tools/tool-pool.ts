// Runs SQL, HTTP and function calls on CPU beside the model: a concurrency limit per kind (HTTP in
// its own lane, so a slow API never holds up SQL), a bounded queue per kind (submitters wait when
// it is full: backpressure), a timeout per attempt, retries with backoff for transient errors, and
// results cached by signature (in the pool's cache, or in one a call's submitter passes: the
// Processor's pool serves every run of the session, each run with its own result cache, or the
// server's bounded one across mini-batches). Every attempt and every cache hit is a trace task on
// lane "tool:<kind>", in the submitter's trace. Tools themselves live in src/tools/: any
// `(args, { signal }) => Promise<result>` plugs in.
import { stableStringify } from "./call-signature.ts";
import { ToolAbortedError, ToolTimeoutError, isTransientError } from "./tool-errors.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";
import { defaultConfig } from "../config.ts";

export type ToolKind = "sql" | "http" | "function";

export type ToolFn<A, R> = (args: A, context: { signal: AbortSignal }) => Promise<R>;

export interface ToolCall<A, R> {
  kind: ToolKind;
  /** The tool's name: in the trace and in the default signature. */
  name: string;
  args: A;
  fn: ToolFn<A, R>;
  /** Cache key. Default: kind, name and the arguments as canonical JSON. */
  signature?: string;
  /** Default true. Pass false for tools whose answer may change within a run (non-deterministic). */
  cache?: boolean;
  timeoutMs?: number;
  /** Retries after the first attempt, for transient errors only. */
  retries?: number;
  /** Plan nodes this call serves (trace). */
  nodeIds?: number[];
  /**
   * Queue order within its kind: lower runs first, equal ones in submission order (default 0).
   * The pipeline passes its node's place in the plan, so when calls of several nodes wait at
   * once (they started early), those the plan needs first are not stuck behind the others.
   */
  priority?: number;
}

/** Where results live by signature: a Map by default; the server passes a bounded one. */
export interface ToolResultCache {
  get(signature: string): Promise<unknown> | undefined;
  set(signature: string, result: Promise<unknown>): void;
  delete(signature: string): void;
  clear(): void;
}

export interface ToolPoolOptions {
  /** Results by signature, shared with whoever passed it (default: a Map for this pool). */
  cache?: ToolResultCache;
  /** Concurrent calls per kind. Default: the Processor config's (config.ts says why). */
  limits?: Partial<Record<ToolKind, number>>;
  /** Calls waiting per kind before `submit` itself waits. Default: the config's. */
  queueLimit?: number;
  /** Per attempt. Default: the config's. */
  timeoutMs?: number;
  /** Default: the config's. */
  retries?: number;
  /** First backoff; doubles per retry, with up to 50% jitter. Default 50 ms. */
  backoffMs?: number;
  isTransient?: (error: unknown) => boolean;
  trace?: TraceRecorder;
}

export interface ToolKindStats {
  calls: number;
  attempts: number;
  cacheHits: number;
  retries: number;
  timeouts: number;
  failures: number;
  maxRunning: number;
  maxQueued: number;
}

/** Per submission: what cancels the call, where it is recorded, where results are shared. */
export interface SubmitOptions {
  signal?: AbortSignal;
  /** Default: the pool's trace. */
  trace?: TraceRecorder;
  /** Default: the pool's cache. */
  cache?: ToolResultCache;
}

/** A queued call: `result` settles when it has run (or failed, or been cancelled). */
export interface ToolHandle<R> {
  readonly result: Promise<R>;
  readonly cacheHit: boolean;
}

/** A queued call; `start` runs it and settles when it has finished, never rejecting. */
interface Job {
  start: () => Promise<void>;
  priority: number;
}

/** Puts a job after every queued job of its priority or lower (the queue stays sorted). */
function insertByPriority(queue: Job[], job: Job): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (queue[mid]!.priority <= job.priority) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, job);
}

interface Lane {
  limit: number;
  running: number;
  queue: Job[];
  /** Submitters waiting for queue space, woken one per dequeued job. */
  waiters: (() => void)[];
}

export class ToolPool {
  private readonly lanes = new Map<ToolKind, Lane>();
  private readonly cache: ToolResultCache;
  private readonly options: Required<Omit<ToolPoolOptions, "trace" | "limits" | "cache">>;
  private readonly trace?: TraceRecorder;
  readonly stats = {} as Record<ToolKind, ToolKindStats>;

  constructor(options: ToolPoolOptions = {}) {
    this.cache = options.cache ?? new Map<string, Promise<unknown>>();
    const defaults = defaultConfig().tools;
    for (const kind of Object.keys(defaults.limits) as ToolKind[]) {
      const limit = options.limits?.[kind] ?? defaults.limits[kind];
      if (!(Number.isInteger(limit) && limit >= 1)) {
        throw new RangeError(`limits.${kind} must be an integer >= 1 (got ${String(limit)})`);
      }
      this.lanes.set(kind, { limit, running: 0, queue: [], waiters: [] });
      this.stats[kind] = {
        calls: 0,
        attempts: 0,
        cacheHits: 0,
        retries: 0,
        timeouts: 0,
        failures: 0,
        maxRunning: 0,
        maxQueued: 0,
      };
    }
    this.options = {
      queueLimit: options.queueLimit ?? defaults.queueLimit,
      timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
      retries: options.retries ?? defaults.retries,
      backoffMs: options.backoffMs ?? 50,
      isTransient: options.isTransient ?? isTransientError,
    };
    if (!(this.options.queueLimit >= 1)) {
      throw new RangeError(`queueLimit must be >= 1 (got ${this.options.queueLimit})`);
    }
    this.trace = options.trace;
  }

  /** Runs a call and returns its result. */
  async run<A, R>(call: ToolCall<A, R>, options: SubmitOptions = {}): Promise<R> {
    return (await this.submit(call, options)).result;
  }

  /**
   * Queues a call; resolves once it is accepted (at once, unless the kind's queue is full: then
   * it waits, which is how a producer feeding thousands of rows is slowed to the pool's pace).
   */
  async submit<A, R>(call: ToolCall<A, R>, options: SubmitOptions = {}): Promise<ToolHandle<R>> {
    const lane = this.lanes.get(call.kind);
    if (!lane) {
      throw new TypeError(
        `unknown tool kind '${String(call.kind)}': use "sql", "http" or "function"`,
      );
    }
    const signal = options.signal;
    const trace = options.trace ?? this.trace;
    const cache = options.cache ?? this.cache;
    signal?.throwIfAborted();
    const stats = this.stats[call.kind];
    stats.calls++;
    const cacheable = call.cache !== false;
    const signature = call.signature ?? `${call.kind}:${call.name}:${stableStringify(call.args)}`;
    const cached = cacheable ? cache.get(signature) : undefined;
    if (cached) {
      stats.cacheHits++;
      trace?.begin(`tool:${call.kind}`, call.kind, call.nodeIds).end({
        cacheHit: true,
        detail: call.name,
      });
      // A shared call cancelled by *its* caller is not this caller's failure: run it afresh.
      const result = (cached as Promise<R>).catch((error: unknown) => {
        if (error instanceof ToolAbortedError && !signal?.aborted) return this.run(call, options);
        throw error;
      });
      return { result, cacheHit: true };
    }
    let markAccepted!: () => void;
    const accepted = new Promise<void>((resolve) => (markAccepted = resolve));
    const result = (async () => {
      // A woken submitter enqueues without checking again, so later ones never starve it.
      if (lane.queue.length >= this.options.queueLimit) {
        await this.waitForSpace(lane, call.name, signal);
      }
      const done = this.enqueue(lane, call, signal, trace);
      markAccepted();
      this.pump(call.kind, lane);
      return done;
    })();
    if (cacheable) {
      // Cached before it runs, so equal calls submitted meanwhile share this one.
      cache.set(signature, result);
      // Failures are not cached: a later call with the same signature tries again.
      result.catch(() => {
        if (cache.get(signature) === result) cache.delete(signature);
      });
    }
    await Promise.race([accepted, result]);
    return { result, cacheHit: false };
  }

  private enqueue<A, R>(
    lane: Lane,
    call: ToolCall<A, R>,
    signal: AbortSignal | undefined,
    trace: TraceRecorder | undefined,
  ): Promise<R> {
    const stats = this.stats[call.kind];
    return new Promise<R>((resolve, reject) => {
      const job: Job = {
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          return this.attempt(call, signal, trace).then(resolve, reject);
        },
        priority: call.priority ?? 0,
      };
      const onAbort = () => {
        const at = lane.queue.indexOf(job);
        if (at >= 0) {
          lane.queue.splice(at, 1);
          this.wakeWaiter(lane);
          reject(new ToolAbortedError(call.name, signal!.reason));
        }
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      insertByPriority(lane.queue, job);
      stats.maxQueued = Math.max(stats.maxQueued, lane.queue.length);
    });
  }

  /** Forgets cached results (a new run starts). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Calls running now, all kinds together. */
  running(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.running;
    return n;
  }

  /** Calls running and waiting, per kind. */
  load(kind: ToolKind): { running: number; queued: number } {
    const lane = this.lanes.get(kind)!;
    return { running: lane.running, queued: lane.queue.length };
  }

  private pump(kind: ToolKind, lane: Lane): void {
    while (lane.running < lane.limit && lane.queue.length > 0) {
      const job = lane.queue.shift()!;
      lane.running++;
      const stats = this.stats[kind];
      stats.maxRunning = Math.max(stats.maxRunning, lane.running);
      this.wakeWaiter(lane);
      void job.start().then(() => {
        lane.running--;
        this.pump(kind, lane);
      });
    }
  }

  private waitForSpace(lane: Lane, name: string, signal?: AbortSignal) {
    return new Promise<void>((resolve, reject) => {
      const waiter = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = lane.waiters.indexOf(waiter);
        if (at >= 0) lane.waiters.splice(at, 1);
        reject(new ToolAbortedError(name, signal!.reason));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      lane.waiters.push(waiter);
    });
  }

  private wakeWaiter(lane: Lane): void {
    lane.waiters.shift()?.();
  }

  /** Attempts until success, a non-transient error, cancellation, or retries run out. */
  private async attempt<A, R>(
    call: ToolCall<A, R>,
    signal: AbortSignal | undefined,
    trace: TraceRecorder | undefined,
  ): Promise<R> {
    const stats = this.stats[call.kind];
    const retries = call.retries ?? this.options.retries;
    const timeoutMs = call.timeoutMs ?? this.options.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new ToolAbortedError(call.name, signal.reason);
      stats.attempts++;
      const task = trace?.begin(`tool:${call.kind}`, call.kind, call.nodeIds);
      try {
        const value = await runWithTimeout(call, timeoutMs, signal);
        task?.end({ attempt, detail: call.name });
        return value;
      } catch (error) {
        task?.end({ attempt, detail: call.name, error: messageOf(error) });
        if (error instanceof ToolTimeoutError) stats.timeouts++;
        if (signal?.aborted) throw new ToolAbortedError(call.name, signal.reason);
        if (attempt > retries || !this.options.isTransient(error)) {
          stats.failures++;
          throw error;
        }
        stats.retries++;
        const base = this.options.backoffMs * 2 ** (attempt - 1);
        await sleep(base * (1 + Math.random() * 0.5), signal, call.name);
      }
    }
  }
}

/**
 * One attempt: the tool gets a signal that fires on timeout or cancellation. A tool that ignores
 * its signal still has its result dropped at the deadline, and its slot is given back then: the
 * limit counts calls we wait on, not stray work we could not stop.
 */
function runWithTimeout<A, R>(
  call: ToolCall<A, R>,
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<R> {
  const controller = new AbortController();
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new ToolTimeoutError(call.name, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    const onAbort = () => {
      controller.abort(outer!.reason);
      reject(new ToolAbortedError(call.name, outer!.reason));
    };
    outer?.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    };
    let pending: Promise<R>;
    try {
      pending = call.fn(call.args, { signal: controller.signal });
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal | undefined, tool: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ToolAbortedError(tool, signal!.reason));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
