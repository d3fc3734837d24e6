// The Processor's LLM worker in simulation, for predicting cache hits: the same radix tree and
// LRU eviction over payloads that hold no memory, the same host tier deciding moves by the same
// cost model, the same admission rule (admission.ts), the same batch sizer, and the same KV
// accounting (running sequences reserve prompt + maxTokens, the cache gets the rest of the
// budget), all under the Processor's settings (its config: the one object both sides read).
//
// The host tier matters most where the budget binds: measured on 64 quickstart reviews with a
// user-set budget of 400,000 bytes (room for one running sequence, which reserves its prompt and
// 64 answer tokens, about 264,000 bytes), the worker found 2,214 of 4,140 prompt tokens cached,
// and 40 with its host tier off; the plan, simulating no host tier, predicted 40.
//
// Why rounds and not one request after another: the worker admits a node's rows together, and
// rows admitted in one round are prefilled in one call, so they find only what was cached before
// the round. Replaying requests one at a time predicted 2,214 cached tokens on 64 quickstart
// reviews where the worker got 1,771: the sentiment instruction is shorter than the rule's
// deferral threshold, so each row of the first round prefilled it (docs/optimizer.md).
//
// Decode steps are simulated only for what they decide here: when a sequence leaves (freeing a
// batch slot and its KV reservation), and what the batch sizer sees. The sizer gets step times
// from the cost model, so it grows the limit where the cost model says a bigger batch pays.
import type { CostModel } from "../cost/cost-model.ts";
import { admitRound, type AdmissionPolicy } from "../processor/llm/admission.ts";
import type { ProcessorConfig } from "../processor/config.ts";
import { BatchSizer, type BatchSizerOptions } from "../processor/llm/batch-sizer.ts";
import { MinHeap } from "../processor/kv/min-heap.ts";
import { TokenCountPayload } from "../processor/kv/kv-payload.ts";
import { PrefixCache, radixKey } from "../processor/kv/prefix-cache.ts";
import { KvTiers } from "../processor/kv/kv-tiers.ts";

/** One LLM request as the optimizer knows it. */
export interface SimRequest {
  /** The prompt's tokens, or its known leading part when `complete` is false. */
  tokens: readonly number[];
  /** False for a known prefix of a longer prompt: all of it may hit, and only it is cached. */
  complete: boolean;
  /** Tokens the request is expected to generate (the first comes from its prefill). */
  outputTokens: number;
  /** The request's bound on generated tokens: what the worker reserves KV for. */
  maxTokens: number;
}

interface Waiting {
  readonly promptTokens: readonly number[];
  readonly at: number;
  readonly request: SimRequest;
  readonly reserveBytes: number;
}

interface Running {
  readonly reserveBytes: number;
  readonly waiting: Waiting;
  /** Decode steps the sequence takes (its answer length minus the prefill's token). */
  readonly steps: number;
  /** The step count at which it finishes. */
  readonly doneAt: number;
  /** Admission order: sequences finishing at one step leave latest-admitted first. */
  readonly seq: number;
}

/** One model's worker: its cache, its batch sizer and the KV its running sequences reserve. */
class SimWorker {
  readonly cache: PrefixCache<TokenCountPayload>;
  readonly sizer: BatchSizer;
  private reservedBytes = 0;

  constructor(
    private readonly model: string,
    private readonly cost: CostModel,
    private readonly policy: AdmissionPolicy,
    private readonly budget: number,
    hostBudgetBytes: number,
    batch: BatchSizerOptions | undefined,
  ) {
    this.sizer = new BatchSizer(batch);
    // As the worker's: moves priced by the same cost model, so the same ones happen.
    const tiers =
      hostBudgetBytes > 0
        ? new KvTiers<TokenCountPayload>({ hostBudgetBytes, cost: cost.kvMoveCost(model) })
        : undefined;
    this.cache = new PrefixCache<TokenCountPayload>({ budgetBytes: budget, tiers });
  }

  /** Cached tokens per request, all submitted at once in this order; runs them to the end. */
  run(requests: readonly SimRequest[]): number[] {
    const bytesPerToken = this.cost.profile(this.model).kvBytesPerToken;
    const hits = requests.map(() => 0);
    const waiting: Waiting[] = requests
      .map((request, at) => ({
        promptTokens: request.tokens,
        at,
        request,
        reserveBytes: (request.tokens.length + request.maxTokens) * bytesPerToken,
      }))
      .filter((w) => w.promptTokens.length > 0);
    // Running sequences by when they finish; a decode step costs O(1) plus the sequences that
    // finish at it (walking every running sequence each step dominated the planner's time).
    const running = new MinHeap<Running>(
      (a, b) => a.doneAt < b.doneAt || (a.doneAt === b.doneAt && a.seq > b.seq),
    );
    let step = 0;
    let seq = 0;
    // Sum over running sequences of (prompt + 1 - admission step): their contexts sum to this
    // plus running x step.
    let contextBase = 0;
    const key = (tokens: readonly number[]) => radixKey(this.model, tokens);
    const matchLimit = (r: SimRequest) => (r.complete ? r.tokens.length - 1 : r.tokens.length);
    while (waiting.length > 0 || running.size > 0) {
      const round = admitRound(waiting, this.policy, {
        running: running.size,
        limit: this.sizer.limit,
        cacheAware: true,
        cachedTokens: (w) =>
          this.cache.peekPrefix(key(w.promptTokens), { maxTokens: matchLimit(w.request) }),
        reserve: (w, only) => this.reserve(w.reserveBytes, only),
      });
      // One prefill call: every chosen request matches first (moving in a cold prefix when that
      // beats recomputing it, as the worker does), then all of them are cached.
      const matches = round.chosen.map((w) => {
        const k = key(w.promptTokens);
        const usable = this.cache.usablePrefix(k, { maxTokens: matchLimit(w.request) });
        const m = this.cache.matchPrefix(k, { maxTokens: usable });
        if (m.numTokens > 0) {
          this.cache.lock(m.node);
          this.cache.loadPrefix(m);
        }
        hits[w.at] = m.numTokens;
        return m;
      });
      round.chosen.forEach((w, i) => {
        this.cache.insert(
          key(w.promptTokens),
          new TokenCountPayload(w.promptTokens.length, bytesPerToken),
        );
        if (matches[i]!.numTokens > 0) this.cache.unlock(matches[i]!.node);
        // The prefill computes the first output token; the rest take a decode step each.
        const length = outputLength(w.request.outputTokens, w.request.maxTokens, w.at);
        const steps = Math.max(0, length - 1);
        if (steps === 0) this.release(w.reserveBytes);
        else {
          running.push({
            reserveBytes: w.reserveBytes,
            waiting: w,
            steps,
            doneAt: step + steps,
            seq: seq++,
          });
          contextBase += w.promptTokens.length + 1 - step;
        }
      });
      if (running.size === 0) continue;
      const n = running.size;
      this.sizer.observeStep(
        n,
        this.cost.decodeStepMs(n, (contextBase + n * step) / n, this.model),
      );
      step++;
      while (running.size > 0 && running.peek()!.doneAt === step) {
        const r = running.pop()!;
        contextBase -= r.waiting.promptTokens.length + 1 - (r.doneAt - r.steps);
        // The worker caches prompt + answer at the end: the answer is unknown here, but its KV
        // takes room in the cache all the same (and may evict others), so it goes in as tokens
        // no prompt can match (negative ids, unique per request).
        const answered = [
          ...r.waiting.promptTokens,
          ...Array.from({ length: r.steps }, (_, k) => -1 - r.waiting.at * 4096 - k),
        ];
        this.cache.insert(key(answered), new TokenCountPayload(answered.length, bytesPerToken));
        this.release(r.reserveBytes);
      }
    }
    return hits;
  }

  /** The worker's reserve: evict cached KV to make room; `force` for the only sequence. */
  private reserve(bytes: number, force: boolean): boolean {
    const over = this.reservedBytes + bytes + this.cache.fastBytes - this.budget;
    if (over > 0) this.cache.evict(over);
    if (this.reservedBytes + bytes + this.cache.fastBytes - this.budget > 0 && !force) return false;
    this.reservedBytes += bytes;
    this.resizeCache();
    return true;
  }

  private release(bytes: number): void {
    this.reservedBytes -= bytes;
    this.resizeCache();
  }

  /** The cache gets whatever running sequences do not hold. */
  private resizeCache(): void {
    this.cache.budgetBytes = Math.max(0, this.budget - this.reservedBytes);
    this.cache.evict(this.cache.fastBytes - this.cache.budgetBytes);
  }
}

// Golden-ratio steps spread request positions evenly over [0, 1) without following their order.
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/**
 * The tokens request `at` generates. Only the node's mean is known; answers vary (measured on
 * 64 quickstart summaries of at most 24 tokens: mean 9.3, from 1 to 24), and the spread is what
 * makes a busy worker free its slots a few at a time, each new admission then finding its
 * siblings' prefixes cached. A lockstep batch (every answer of mean length) would admit whole
 * rounds that share nothing. So lengths are spread evenly around the mean, as wide as 1 and
 * `maxTokens` allow while keeping the mean (a mean at the bound means every answer hits it).
 */
function outputLength(mean: number, maxTokens: number, at: number): number {
  const m = Math.min(Math.max(mean, 1), maxTokens);
  const lo = Math.max(1, 2 * m - maxTokens);
  const hi = 2 * m - lo;
  const u = (at * GOLDEN) % 1;
  return Math.max(1, Math.min(maxTokens, Math.round(lo + u * (hi - lo))));
}

export class PrefixSimulator {
  private readonly workers = new Map<string, SimWorker>();

  constructor(
    private readonly cost: CostModel,
    /** The Processor's settings: the workers' KV budget, batch limits and admission rule. */
    private readonly config: ProcessorConfig,
  ) {}

  /**
   * Cached prompt tokens per request when a node's requests reach the model's worker together,
   * in this order (a gathered node); the cache then holds their prompts for later nodes.
   */
  admitTogether(model: string, requests: readonly SimRequest[]): number[] {
    // No prefix cache (the ablation): nothing is ever reused.
    if (!this.config.kv.prefixCache) return requests.map(() => 0);
    let w = this.workers.get(model);
    if (!w) {
      const { batch, kv } = this.config;
      w = new SimWorker(model, this.cost, batch, kv.budgetBytes, kv.hostBudgetBytes, {
        initial: batch.initial,
        min: batch.min,
        max: batch.max,
        maxStepMs: batch.maxStepMs,
      });
      this.workers.set(model, w);
    }
    return w.run(requests);
  }
}
