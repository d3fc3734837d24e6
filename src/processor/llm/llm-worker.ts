// The LLM scheduler: continuous batching over every request submitted to one model. At each step
// boundary finished sequences leave, cancelled ones are freed, and waiting ones are admitted
// (prefilled together, each computing only the tokens after its longest cached prefix); then one
// decode step runs for every running sequence. Prefill rounds and decode steps alternate, so new
// work never waits for the running batch to drain.
//
// Invariants:
// - Greedy outputs equal `Model.generate` run one request at a time: the decoder is the runtime's,
//   and a cached prefix's KV is bit-for-bit the KV a full prefill would have produced.
// - When every prompt token is cached, the last one is recomputed to get logits (match with
//   `maxTokens: prompt.length - 1`).
// - KV memory (running sequences' reservations + the cache's fast tier) stays within
//   `kvBudgetBytes`, except that one sequence always runs: a budget too small for any batch
//   degrades to batch 1 and an emptied cache, never to a failure.
// - The worker serves every run of the session: each request carries its run's sink, and a
//   forward call is a task in the trace of each run with a sequence in it (run-sink.ts).
import type { GenerateRequest, GenerateResult } from "../../runtime/types.ts";
import { ADMISSION_DEFAULTS, admitRound, type AdmissionPolicy } from "./admission.ts";
import { BatchSizer, type BatchSizerOptions } from "./batch-sizer.ts";
import type { KvPayload } from "../kv/kv-payload.ts";
import type { ForwardInput, LlmEngine } from "./llm-engine.ts";
import { PrefixCache, radixKey, type MatchResult } from "../kv/prefix-cache.ts";
import { Sequence, abortError } from "./sequence.ts";
import type { TraceRecorder } from "../trace/trace-recorder.ts";
import { BatchTasks, type RunSink } from "../trace/run-sink.ts";
import { defaultConfig } from "../config.ts";
import { splitStep, type StepCost } from "./step-groups.ts";

/**
 * The shape of one forward call, as the cost model's formulas read it: a prefill's rows (new and
 * cached prompt tokens each), or a decode step's batch and mean context.
 */
export type StepShape =
  | { kind: "prefill"; rows: { newTokens: number; cachedTokens: number }[] }
  | { kind: "decode"; batch: number; context: number };

export interface LlmWorkerOptions<K extends KvPayload<K>> {
  /** KV memory for running sequences plus the cache's fast tier. Default: the Processor config's. */
  kvBudgetBytes?: number;
  /**
   * The prefix cache (share one between workers of one model to share prefixes). Default: a new
   * LRU cache inside the budget. `false`: no reuse at all (every prompt fully prefilled).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  cache?: PrefixCache<K, any> | false;
  /** Most new tokens in one prefill call. Default: ADMISSION_DEFAULTS (admission.ts). */
  prefillTokenBudget?: number;
  /**
   * A waiting prompt sharing at least this many uncached tokens with one admitted in the same
   * round waits a round. Default: ADMISSION_DEFAULTS (admission.ts says why 32).
   */
  deferSharedTokens?: number;
  /**
   * Move a waiting request's cold (host-tier) prefix back in while the model runs the step
   * before its turn, so its admission does not pay the move (default true). Only when the tiers'
   * cost says moving in beats recomputing, and only what fits the cache's share of the budget.
   */
  prefetch?: boolean;
  batch?: BatchSizerOptions;
  /** Where requests submitted without a sink of their own are recorded (a worker used alone). */
  trace?: TraceRecorder;
  /** Their trace lane. Default "llm:0". */
  lane?: string;
  /**
   * Called with a prompt right before its prefill looks it up in this worker's cache, so KV that
   * another worker holds can move in first (KvExchange.pull). Synchronous on purpose: the match
   * and lock follow at once, so nothing evicts the moved prefix before this request uses it.
   */
  importPrefix?: (promptTokens: readonly number[], sink: RunSink | undefined) => void;
  /** Told every forward call's shape and measured time (the Processor feeds its CostModel). */
  onStep?: (step: StepShape, ms: number) => void;
  /**
   * For an engine that pads a batch to its longest row: the price of a decode step of `batch`
   * rows at `width` positions. A step's rows are then split into forward calls by length when
   * that is cheaper (step-groups.ts). Absent: every running row in one call.
   */
  stepCost?: StepCost;
  /**
   * The same for a prefill round: the price of one call of `batch` rows of `width` new tokens
   * each. A round's rows are split into calls by new-token length when that is cheaper.
   */
  prefillCost?: StepCost;
}

export interface SubmitOptions {
  signal?: AbortSignal;
  /** Plan nodes this request serves (trace). */
  nodeIds?: number[];
  /** The run the request belongs to: its trace gets the forward calls it is part of. */
  sink?: RunSink;
}

export interface LlmWorkerStats {
  prefillCalls: number;
  decodeSteps: number;
  prefillTokens: number;
  cachedTokens: number;
  decodeTokens: number;
  maxBatchSize: number;
  /** Admissions put off one round so a sibling's prefill could fill the cache first. */
  deferredForSharing: number;
  /** Admissions put off for lack of KV memory. */
  deferredForMemory: number;
  cancelled: number;
  /** Requests whose cold prefix was prefetched during an earlier step, and its tokens. */
  prefetchedRequests: number;
  prefetchedTokens: number;
  /** Host-tier tokens moved in at admission, on the critical path (what prefetch avoids). */
  hostTokensAtAdmission: number;
}

export class LlmWorker<K extends KvPayload<K>> {
  readonly stats: LlmWorkerStats = {
    prefillCalls: 0,
    decodeSteps: 0,
    prefillTokens: 0,
    cachedTokens: 0,
    decodeTokens: 0,
    maxBatchSize: 0,
    deferredForSharing: 0,
    deferredForMemory: 0,
    cancelled: 0,
    prefetchedRequests: 0,
    prefetchedTokens: 0,
    hostTokensAtAdmission: 0,
  };
  readonly sizer: BatchSizer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly cache: PrefixCache<K, any> | undefined;
  private readonly budget: number;
  private readonly policy: AdmissionPolicy;
  private readonly prefetch: boolean;
  private readonly defaultSink: RunSink | undefined;
  private readonly importPrefix?: LlmWorkerOptions<K>["importPrefix"];
  private readonly onStep?: LlmWorkerOptions<K>["onStep"];
  private readonly stepCost?: StepCost;
  private readonly prefillCost?: StepCost;
  private readonly waiting: Sequence<K>[] = [];
  private readonly running: Sequence<K>[] = [];
  private reservedBytes = 0;
  /** Fast-tier bytes locked by prefetches for waiting sequences. */
  private prefetchedBytes = 0;
  private nextId = 1;
  private looping = false;
  /** Set once the engine's `ready` resolved (at once for an engine without one). */
  private engineReady: boolean;

  constructor(
    readonly engine: LlmEngine<K>,
    options: LlmWorkerOptions<K> = {},
  ) {
    this.budget = options.kvBudgetBytes ?? defaultConfig().kv.budgetBytes;
    if (!(this.budget >= 0)) {
      throw new RangeError(`kvBudgetBytes must be a number >= 0 (got ${this.budget})`);
    }
    this.cache =
      options.cache === false
        ? undefined
        : (options.cache ?? new PrefixCache<K>({ budgetBytes: this.budget }));
    this.policy = {
      prefillTokenBudget: options.prefillTokenBudget ?? ADMISSION_DEFAULTS.prefillTokenBudget,
      deferSharedTokens: Math.max(
        1,
        options.deferSharedTokens ?? ADMISSION_DEFAULTS.deferSharedTokens,
      ),
    };
    this.prefetch = options.prefetch ?? true;
    this.sizer = new BatchSizer(options.batch);
    this.defaultSink = options.trace && { trace: options.trace, lane: options.lane ?? "llm:0" };
    this.importPrefix = options.importPrefix;
    this.onStep = options.onStep;
    this.stepCost = options.stepCost;
    this.prefillCost = options.prefillCost;
    this.engineReady = engine.ready === undefined;
    engine.ready?.then(
      () => (this.engineReady = true),
      () => {}, // the first loop awaits it and fails the waiting requests with its error
    );
    this.resizeCache();
  }

  /** Runs a request along with everything else submitted; resolves with its answer. */
  submit(request: GenerateRequest, options: SubmitOptions = {}): Promise<GenerateResult> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    const prompt = request.promptTokens;
    if (!Array.isArray(prompt) || prompt.length === 0) {
      return Promise.reject(
        new TypeError("a request needs promptTokens (non-empty): use Model.encodeChat(messages)"),
      );
    }
    const maxTokens = request.sampling?.maxTokens;
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) {
      return Promise.reject(
        new RangeError(`sampling.maxTokens must be an integer >= 1 (got ${String(maxTokens)})`),
      );
    }
    if (prompt.length >= this.engine.maxPositions) {
      return Promise.reject(
        new RangeError(
          `prompt of ${prompt.length} tokens does not fit the model's ${this.engine.maxPositions} positions: shorten it`,
        ),
      );
    }
    return new Promise<GenerateResult>((resolve, reject) => {
      const seq = new Sequence<K>(this.nextId++, request, this.engine.createDecoder(request), {
        resolve,
        reject,
        nodeIds: options.nodeIds ?? [],
        sink: options.sink ?? this.defaultSink,
        reserveBytes:
          Math.min(prompt.length + maxTokens, this.engine.maxPositions) *
          this.engine.kvBytesPerToken,
      });
      if (signal) {
        const onAbort = () => this.cancel(seq, signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        seq.onSettle(() => signal.removeEventListener("abort", onAbort));
      }
      this.waiting.push(seq);
      this.kick();
    });
  }

  /** Sequences waiting and running now. */
  load(): { waiting: number; running: number; reservedBytes: number } {
    return {
      waiting: this.waiting.length,
      running: this.running.length,
      reservedBytes: this.reservedBytes,
    };
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    // Start on the next macrotask, so requests submitted in one synchronous loop share a batch.
    setImmediate(() => {
      this.loop()
        .catch((error: unknown) => this.failAll(error))
        .finally(() => {
          this.looping = false;
          if (this.waiting.length > 0 || this.running.length > 0) this.kick();
        });
    });
  }

  private async loop(): Promise<void> {
    if (!this.engineReady) await this.engineLoaded();
    while (this.waiting.length > 0 || this.running.length > 0) {
      const admitted = this.admit();
      if (admitted.length > 0) await this.prefill(admitted);
      if (this.running.length > 0) await this.decodeStep();
    }
  }

  /**
   * Waits for the engine's model session (a model thread's first load: 6 s for SmolLM2-135M's
   * shape in fp32), traced as a "model-load" task of the requests waiting for it. Otherwise the
   * load hid inside the first prefill: its time, its trace task and the cost model's sample.
   */
  private async engineLoaded(): Promise<void> {
    const tasks = new BatchTasks(this.waiting, "model-load");
    try {
      await this.engine.ready;
    } catch (error) {
      tasks.fail(error);
      throw error;
    }
    tasks.endWait();
    this.engineReady = true;
  }

  /** The next prefill round, by the admission rule the optimizer's simulator shares. */
  private admit(): Sequence<K>[] {
    const round = admitRound(this.waiting, this.policy, {
      running: this.running.length,
      limit: this.sizer.limit,
      cacheAware: this.cache !== undefined,
      cachedTokens: (seq) =>
        this.cache?.peekPrefix(radixKey(this.engine.modelId, seq.promptTokens), {
          maxTokens: seq.promptTokens.length - 1,
        }) ?? 0,
      reserve: (seq, only) => this.reserve(seq, only),
    });
    this.stats.deferredForSharing += round.deferredForSharing;
    if (round.deferredForMemory) this.stats.deferredForMemory++;
    return round.chosen;
  }

  /** Reserves the sequence's worst-case KV, evicting cached KV if needed; `force` for the only one. */
  private reserve(seq: Sequence<K>, force: boolean): boolean {
    this.recordTiersFor(seq);
    const need = seq.reserveBytes;
    const cacheBytes = this.cache?.fastBytes ?? 0;
    const over = this.reservedBytes + need + cacheBytes - this.budget;
    if (over > 0 && this.cache) this.cache.evict(over);
    const stillOver = this.reservedBytes + need + (this.cache?.fastBytes ?? 0) - this.budget;
    if (stillOver > 0 && !force) return false;
    this.reservedBytes += need;
    seq.reserved = true;
    this.resizeCache();
    return true;
  }

  private releasePrefetch(seq: Sequence<K>): void {
    if (!seq.prefetched) return;
    this.cache?.unlock(seq.prefetched.match);
    this.prefetchedBytes -= seq.prefetched.bytes;
    seq.prefetched = undefined;
  }

  private release(seq: Sequence<K>): void {
    this.recordTiersFor(seq);
    this.releasePrefetch(seq);
    if (seq.match) {
      this.cache?.unlock(seq.match.node);
      seq.match = undefined;
    }
    if (seq.reserved) {
      this.reservedBytes -= seq.reserveBytes;
      seq.reserved = false;
      this.resizeCache();
    }
    seq.kv?.release?.();
    seq.kv = undefined;
  }

  /** KV tier moves from here on are made for `seq`: its run's trace records them. */
  private recordTiersFor(seq: Sequence<K>): void {
    if (this.cache?.tiers) this.cache.tiers.trace = seq.sink?.trace;
  }

  /** The cache gets whatever running sequences do not hold. */
  private resizeCache(): void {
    if (!this.cache) return;
    this.cache.budgetBytes = Math.max(0, this.budget - this.reservedBytes);
    this.cache.evict(this.cache.fastBytes - this.cache.budgetBytes);
  }

  private async prefill(batch: Sequence<K>[]): Promise<void> {
    const inputs: ForwardInput<K>[] = [];
    for (const seq of batch) {
      const prompt = seq.promptTokens;
      let past: K | undefined;
      this.recordTiersFor(seq);
      if (this.cache) {
        this.importPrefix?.(prompt, seq.sink);
        const key = radixKey(this.engine.modelId, prompt);
        // A cold (host-tier) part moves in only when that still beats recomputing it.
        const usable = this.cache.usablePrefix(key, { maxTokens: prompt.length - 1 });
        const match: MatchResult = this.cache.matchPrefix(key, { maxTokens: usable });
        if (match.numTokens > 0) {
          this.stats.hostTokensAtAdmission += match.numHostTokens;
          this.cache.lock(match.node);
          seq.match = match;
          past = this.cache.loadPrefix(match);
        }
      }
      this.releasePrefetch(seq);
      seq.cachedTokens = past?.numTokens ?? 0;
      seq.prefillTokens = prompt.length - seq.cachedTokens;
      inputs.push({ past, tokens: prompt.slice(seq.cachedTokens) });
    }
    if (!this.prefillCost) return this.prefillCall(batch, inputs);
    // rows padded to the round's longest: one call per length class when that is cheaper
    const groups = splitStep(
      inputs.map((x) => x.tokens.length),
      this.prefillCost,
    );
    for (const group of groups)
      await this.prefillCall(
        group.map((i) => batch[i]!),
        group.map((i) => inputs[i]!),
      );
  }

  /** One prefill forward call over `batch`, whose pasts (cache matches) `inputs` hold. */
  private async prefillCall(batch: Sequence<K>[], inputs: ForwardInput<K>[]): Promise<void> {
    const tasks = new BatchTasks(batch, "prefill");
    this.stats.prefillCalls++;
    this.stats.maxBatchSize = Math.max(this.stats.maxBatchSize, batch.length);
    const t0 = performance.now();
    let outputs;
    try {
      outputs = await this.forwardAndPrefetch(inputs, this.running.length + batch.length);
    } catch (error) {
      tasks.fail(error);
      for (const seq of batch) this.fail(seq, error);
      return;
    } finally {
      // The pasts were loaded from the cache for this call only (loadPrefix gives a new payload).
      for (const input of inputs) input.past?.release?.();
    }
    const rows = batch.map((s) => ({ newTokens: s.prefillTokens, cachedTokens: s.cachedTokens }));
    this.onStep?.({ kind: "prefill", rows }, performance.now() - t0);
    tasks.end(
      (seq) => seq.prefillTokens,
      (own) => ({
        prefillTokens: own.reduce((n, s) => n + s.prefillTokens, 0),
        cachedTokens: own.reduce((n, s) => n + s.cachedTokens, 0),
      }),
    );
    for (const seq of batch) {
      this.stats.prefillTokens += seq.prefillTokens;
      this.stats.cachedTokens += seq.cachedTokens;
    }
    batch.forEach((seq, i) => {
      const out = outputs[i]!;
      if (seq.settled) {
        out.kv.release?.();
        return this.release(seq);
      }
      this.recordTiersFor(seq);
      seq.kv = out.kv;
      seq.fed = [...seq.promptTokens];
      // The prompt's KV goes to the cache now, so siblings admitted next round reuse it.
      if (this.cache) this.cache.insert(radixKey(this.engine.modelId, seq.fed), out.kv);
      if (seq.match) {
        this.cache!.unlock(seq.match.node);
        seq.match = undefined;
      }
      this.advance(seq, out.logits);
      if (!seq.settled) this.running.push(seq);
    });
  }

  /** One decode step for every running sequence: one forward call, or one per length class. */
  private async decodeStep(): Promise<void> {
    const running = this.running.splice(0, this.running.length);
    if (!this.stepCost) return this.decodeCall(running);
    // the width each row runs at: everything fed so far plus the step's token
    const groups = splitStep(
      running.map((s) => s.fed.length + 1),
      this.stepCost,
    );
    for (const group of groups) {
      // a row cancelled while an earlier group's call ran has left (its KV is freed)
      const live = group.map((i) => running[i]!).filter((s) => !s.settled);
      if (live.length > 0) await this.decodeCall(live);
    }
  }

  private async decodeCall(batch: Sequence<K>[]): Promise<void> {
    const t0 = performance.now();
    const tasks = new BatchTasks(batch, "decode");
    this.stats.decodeSteps++;
    this.stats.maxBatchSize = Math.max(this.stats.maxBatchSize, batch.length);
    let outputs;
    try {
      outputs = await this.forwardAndPrefetch(
        batch.map((seq) => ({ past: seq.kv, tokens: [seq.nextToken!] })),
        batch.length,
      );
    } catch (error) {
      tasks.fail(error);
      for (const seq of batch) this.fail(seq, error);
      return;
    }
    const ms = performance.now() - t0;
    tasks.end(
      () => 1,
      (own) => ({ decodeTokens: own.length }),
    );
    // Context at this step: every token fed so far (the step's input is the next one).
    const context = batch.reduce((n, s) => n + s.fed.length, 0) / batch.length;
    this.onStep?.({ kind: "decode", batch: batch.length, context }, ms);
    this.sizer.observeStep(batch.length, ms);
    this.stats.decodeTokens += batch.length;
    batch.forEach((seq, i) => {
      const out = outputs[i]!;
      if (seq.settled) {
        out.kv.release?.();
        return this.release(seq);
      }
      seq.kv?.release?.(); // the step's past: out.kv holds all of it and one more token
      seq.kv = out.kv;
      seq.fed.push(seq.nextToken!);
      this.advance(seq, out.logits);
      if (!seq.settled) this.running.push(seq);
    });
  }

  /**
   * Starts a forward call, then prefetches the next admissions' cold KV. With an engine that
   * computes off the JS thread (a model thread, a remote server) the prefetch runs beside the
   * forward. With the in-process engine it does not: `session.run` is deferred to setImmediate and
   * then runs synchronously on the JS thread (docs/benchmarks.md, "Profile"), so the prefetch runs
   * just before it. It still leaves admission's critical path, which is what the lock rules below
   * keep.
   */
  private async forwardAndPrefetch(inputs: ForwardInput<K>[], busy: number) {
    const pending = this.engine.forward(inputs);
    pending.catch(() => {}); // awaited below; a prefetch bug must not leave it unhandled
    this.prefetchWaiting(busy);
    return pending;
  }

  /**
   * Moves the cold prefixes of the requests the next admission would take (the queue's head, up
   * to the free batch slots) into the fast tier and locks them until their prefill, so neither
   * their own reservations nor the cache's inserts evict them again (measured on the shipped
   * model with a two-sequence budget and no lock: 69 prefetches, and admission still moved the
   * same 481 host tokens in). The locks stay within the budget: room counts the running
   * reservations, earlier prefetches and the reservations of everyone admitted before.
   */
  private prefetchWaiting(busy: number): void {
    const cache = this.cache;
    if (!this.prefetch || !cache || cache.hostBytes === 0) return;
    const slots = Math.max(1, this.sizer.limit - busy);
    let room = this.budget - this.reservedBytes - this.prefetchedBytes;
    for (const seq of this.waiting.slice(0, slots)) {
      room -= seq.reserveBytes;
      if (room <= 0) break;
      if (seq.prefetched) continue;
      this.recordTiersFor(seq);
      const prompt = seq.promptTokens;
      const moved = cache.prefetch(radixKey(this.engine.modelId, prompt), {
        maxTokens: prompt.length - 1,
        maxBytes: room,
        keepLocked: true,
      });
      if (!moved.node) continue;
      seq.prefetched = { match: moved.node, bytes: moved.bytes };
      this.prefetchedBytes += moved.bytes;
      room -= moved.bytes;
      this.stats.prefetchedRequests++;
      this.stats.prefetchedTokens += moved.numTokens;
    }
  }

  /** Chooses the next token; finishes the sequence when the decoder says done. */
  private advance(seq: Sequence<K>, logits: Float32Array): void {
    const { token, done } = seq.decoder.next(logits);
    // The next token would sit at position fed.length: past the model's last one, stop.
    const full = seq.fed.length >= this.engine.maxPositions;
    if (!done && !full) {
      seq.nextToken = token;
      return;
    }
    // Prompt + answer go to the cache: a row's next agent call usually starts with both. (The
    // prompt alone went in after prefill.)
    const answered = seq.fed.length > seq.promptTokens.length;
    this.recordTiersFor(seq);
    if (this.cache && answered && seq.kv && seq.kv.numTokens === seq.fed.length) {
      this.cache.insert(radixKey(this.engine.modelId, seq.fed), seq.kv);
    }
    const result = seq.decoder.result();
    this.release(seq);
    seq.settle({
      ...result,
      finishReason: done ? result.finishReason : "length",
      prefillTokens: seq.prefillTokens,
      cachedTokens: seq.cachedTokens,
    });
  }

  private cancel(seq: Sequence<K>, reason: unknown): void {
    if (seq.settled) return;
    this.stats.cancelled++;
    seq.fail(abortError(reason));
    // Waiting: gone now. Running: freed here, or when its in-flight step returns.
    const at = this.waiting.indexOf(seq);
    if (at >= 0) this.waiting.splice(at, 1);
    const r = this.running.indexOf(seq);
    if (r >= 0) this.running.splice(r, 1);
    this.release(seq);
  }

  private fail(seq: Sequence<K>, error: unknown): void {
    this.release(seq);
    seq.fail(error);
  }

  private failAll(error: unknown): void {
    for (const seq of [...this.waiting.splice(0), ...this.running.splice(0)]) {
      this.fail(seq, error);
    }
  }
}
