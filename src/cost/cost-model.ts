// The one cost model every optimizer pass and the Processor ask. It holds the calibrated profile
// of each model, the tool cost averages, and learns online from what runs measure; no pass
// hard-codes a number. Nodes are typed loosely (the fields read below) so the PlanDag can evolve.
import { median, fitDecode, fitPrefill, relativeError } from "./fit.ts";
import {
  predictDecodeMs,
  predictDecodeStepMs,
  predictPrefillMs,
  type PrefillRow,
} from "./formulas.ts";
import { MovingAverage } from "./moving-average.ts";
import { typicalJson } from "./schema-output.ts";
import { forwardFootprintBytes, predictWarmupMs } from "./warmup.ts";
import type { DecodeSample, PrefillSample, Profile } from "./profile.ts";
import { functionKey, httpKey, sqlKey, ToolCosts } from "./tool-costs.ts";

/**
 * The fields of a plan node the cost model reads. A PlanDag node (src/plan/types.ts) satisfies
 * it; `args` stays `object` so every node kind's arguments fit, and is read as CostArgs.
 */
export interface CostNode {
  id?: number;
  kind: string;
  label?: string;
  signature?: string;
  args?: object;
}

/** The argument fields read, by node kind (names as in src/plan/types.ts). */
export interface CostArgs {
  // LlmCall
  prompt?: string;
  system?: string;
  maxTokens?: number;
  choices?: string[];
  /** A JSON Schema the answer is constrained to. */
  schema?: object;
  modelKey?: string;
  // SqlCall
  query?: string;
  dbKey?: string;
  // HttpCall
  url?: string;
  method?: string;
  /** Declared latency of a tool call, when the verb was given one. */
  latencyMs?: number;
  // FnCall
  fnKey?: string;
}

const argsOf = (node: CostNode): CostArgs => (node.args ?? {}) as CostArgs;

/** What the caller knows about how the node will run; every field is optional. */
export interface EstimateState {
  /** Distinct calls (rows after deduplication); default 1. */
  calls?: number;
  /**
   * Sequences per batch, within the caller's KV bound; default: all calls in one batch, up to
   * what the profile's KV budget holds.
   */
  batchSize?: number;
  /** Prompt tokens per call (tokenized by the caller); default: prompt characters / charsPerToken. */
  promptTokens?: number;
  /** Prompt tokens per call predicted to come from the prefix cache. */
  cachedTokens?: number;
  /** Generated tokens per call; default: the measured average for this node, else a bound. */
  outputTokens?: number;
  /** The model resident on the worker; a different one pays modelSwitchMs. */
  residentModel?: string;
  /**
   * Include the warm-up of a session that has not yet run calls this large (default true).
   * Choices that should hold for the whole session (a batch size) leave this one-time cost out.
   */
  warmup?: boolean;
}

export interface Estimate {
  ms: number;
  prefillMs: number;
  decodeMs: number;
  switchMs: number;
  /** First calls that grow the model session's memory beyond what it has run (warmup.ts). */
  warmupMs: number;
  /** LLM nodes: the largest KV footprint its calls hold, as the warm-up counts it (bytes). */
  footprintBytes: number;
  toolMs: number;
  /** How many batches an LLM node runs in. */
  batches: number;
  /** Calls made (LLM or tool). */
  calls: number;
  /** LLM nodes, over all calls: prompt tokens, those expected from the prefix cache, generated. */
  promptTokens: number;
  cachedTokens: number;
  decodeTokens: number;
}

export interface EstimateRecord {
  nodeId: number;
  label: string;
  kind: string;
  estimatedMs: number;
  measuredMs: number;
  /** |estimated - measured| / measured */
  relError: number;
}

/** What `observe` learns from: LLM steps refine the profile, tool calls their averages. */
export type Observation =
  | { kind: "prefill"; model?: string; rows: PrefillRow[] }
  | { kind: "decode"; model?: string; batch: number; context: number; steps?: number }
  | { kind: "load"; model?: string }
  | { kind: "kv-move"; model?: string; bytes: number }
  | { kind: "tool"; key: string };

export interface CostModelOptions {
  /** Characters per token when only text is known (byte-level BPE on English: about 3). */
  charsPerToken?: number;
  /** Online samples kept beside the calibration ones for refits. */
  maxOnlineSamples?: number;
  /** Refit the formulas after this many new online samples. */
  refitEvery?: number;
}

interface ModelState {
  profile: Profile;
  load: MovingAverage;
  moveBytesPerMs: MovingAverage;
  online: { prefill: PrefillSample[]; decode: DecodeSample[] };
  pending: number;
  /** The largest forward footprint (bytes) the model's session has run so far (warmup.ts). */
  highWaterBytes: number;
  /** Sums of c_grow's least squares (x: MiB grown, y: ms over the formulas). */
  warmupFit: { xy: number; xx: number };
}

export class CostModel {
  readonly tools = new ToolCosts();
  private readonly models = new Map<string, ModelState>();
  private readonly aliases = new Map<string, string>();
  private readonly outputTokens = new Map<string, MovingAverage>();
  private readonly promptTokens = new Map<string, MovingAverage>();
  private readonly callShares = new Map<string, MovingAverage>();
  /** Per model: the share of `maxTokens` its free-text answers used (a prior for new nodes). */
  private readonly freeTextShare = new Map<string, MovingAverage>();
  private readonly records: EstimateRecord[] = [];
  private primary: string;
  private readonly charsPerToken: number;
  private readonly maxOnline: number;
  private readonly refitEvery: number;

  constructor(profiles: Profile | Profile[], options: CostModelOptions = {}) {
    const list = Array.isArray(profiles) ? profiles : [profiles];
    if (list.length === 0) throw new Error("CostModel: pass at least one Profile (getProfile)");
    this.primary = list[0]!.modelId;
    this.charsPerToken = options.charsPerToken ?? 3;
    this.maxOnline = options.maxOnlineSamples ?? 256;
    this.refitEvery = options.refitEvery ?? 8;
    for (const p of list) this.addProfile(p);
  }

  /** Adds (or replaces) a model's profile; `aliases` are other keys nodes may name it by. */
  addProfile(profile: Profile, aliases: string[] = []): void {
    this.models.set(profile.modelId, {
      profile,
      load: new MovingAverage(profile.loadMs, 2),
      moveBytesPerMs: new MovingAverage(profile.kvMove.bytesPerMs, 2),
      online: { prefill: [], decode: [] },
      pending: 0,
      highWaterBytes: 0,
      warmupFit: { xy: profile.warmup.msPerMiB, xx: 1 },
    });
    for (const a of aliases) this.aliases.set(a, profile.modelId);
  }

  /** The profile for a model id or alias; the first profile when `model` is absent or unknown. */
  profile(model?: string): Profile {
    return this.state(model).profile;
  }

  // ---- LLM primitives ------------------------------------------------------------------------

  /** One prefill call over these rows (formulas.ts: c_call + c_tok*sum(L) + c_att*sum(L(P+L/2))). */
  prefillMs(rows: readonly PrefillRow[], model?: string): number {
    return predictPrefillMs(this.profile(model).prefill, rows);
  }

  /** One decode step of `batch` sequences with `context` tokens each (d_0 + d_row*B + d_kv*B*T). */
  decodeStepMs(batch: number, context: number, model?: string): number {
    return predictDecodeStepMs(this.profile(model).decode, batch, context);
  }

  /** `steps` decode steps, context growing by one per step. */
  decodeMs(steps: number, batch: number, context: number, model?: string): number {
    return predictDecodeMs(this.profile(model).decode, steps, batch, context);
  }

  /**
   * The warm-up a forward call of `batch` sequences of `contextTokens` would pay now: its KV
   * footprint beyond the largest the model's session has run (warmup.ts). Zero once it has.
   */
  warmupMs(batch: number, contextTokens: number, model?: string): number {
    const s = this.state(model);
    const bytes = forwardFootprintBytes(batch, contextTokens, s.profile.kvBytesPerToken);
    return predictWarmupMs(s.profile.warmup, bytes - s.highWaterBytes);
  }

  /**
   * A node whose estimate held `footprintBytes` ran: the session is warm up to it. The tasks'
   * own observations raise the mark to what the worker really ran, but the worker's batch sizer
   * may split a planned batch (16-32 of 48 planned rows on the shipped model), and a node of the
   * same planned shape must not be charged its warm-up again next time.
   */
  noteRan(footprintBytes: number, model?: string): void {
    const s = this.state(model);
    if (footprintBytes > s.highWaterBytes) s.highWaterBytes = footprintBytes;
  }

  kvBytes(tokens: number, model?: string): number {
    return tokens * this.profile(model).kvBytesPerToken;
  }

  /** Bytes of KV the Processor may keep in fast memory for this model. */
  kvBudgetBytes(model?: string): number {
    return this.profile(model).kvBudgetBytes;
  }

  /** Moving `bytes` of KV between tiers (or workers), one direction. */
  kvMoveMs(bytes: number, model?: string): number {
    const s = this.state(model);
    return bytes <= 0 ? 0 : s.profile.kvMove.fixedMs + bytes / s.moveBytesPerMs.value;
  }

  /**
   * Recomputing `tokens` of KV after `contextTokens` cached ones: the marginal prefill cost (no
   * c_call: recomputed tokens ride in the prefill call the request makes anyway, since even a
   * fully cached prompt recomputes its last token to get logits). Compare with kvMoveMs to
   * decide whether migration is worth it.
   */
  recomputeMs(tokens: number, contextTokens = 0, model?: string): number {
    if (tokens <= 0) return 0;
    const p = this.profile(model).prefill;
    return p.tokenMs * tokens + p.attentionMs * tokens * (contextTokens + tokens / 2);
  }

  /** True when moving the KV out and back costs less than recomputing it. */
  shouldMigrate(tokens: number, contextTokens = 0, model?: string): boolean {
    const bytes = this.kvBytes(tokens, model);
    return 2 * this.kvMoveMs(bytes, model) < this.recomputeMs(tokens, contextTokens, model);
  }

  /** The Processor's KvTiers cost interface, backed by this model. */
  kvMoveCost(model?: string): {
    moveMs(bytes: number, direction: "out" | "in"): number;
    recomputeMs(numTokens: number, contextTokens: number): number;
  } {
    return {
      moveMs: (bytes) => this.kvMoveMs(bytes, model),
      recomputeMs: (n, ctx) => this.recomputeMs(n, ctx, model),
    };
  }

  /** Loading `model` on a worker where `resident` is loaded: 0 when it already is. */
  modelSwitchMs(model: string, resident?: string): number {
    if (resident !== undefined && this.resolve(resident) === this.resolve(model)) return 0;
    return this.state(model).load.value;
  }

  /** Largest batch whose KV (prompt + output tokens per sequence) fits the budget. */
  maxBatch(tokensPerSequence: number, model?: string): number {
    const per = this.kvBytes(Math.max(1, tokensPerSequence), model);
    return Math.max(1, Math.floor(this.kvBudgetBytes(model) / per));
  }

  // ---- tools ---------------------------------------------------------------------------------

  /** Expected ms of one call of the tool with this key (sqlKey, httpKey, functionKey). */
  toolMs(key: string): number {
    return this.tools.estimateMs(key);
  }

  /** The tool key of a SqlCall / HttpCall / FnCall node, or undefined for other kinds. */
  toolKeyOf(node: CostNode): string | undefined {
    const a = argsOf(node);
    if (node.kind === "SqlCall") return sqlKey(a.dbKey ?? "duckdb:default", a.query ?? "");
    if (node.kind === "HttpCall") return httpKey(a.method ?? "GET", a.url ?? "");
    if (node.kind === "FnCall") return functionKey(a.fnKey ?? node.signature ?? "");
    return undefined;
  }

  // ---- nodes ---------------------------------------------------------------------------------

  /**
   * The cost of running `node` for `state.calls` calls. LLM calls: batches of prefill (prompt
   * minus cached tokens, after the cached ones) then decode (output tokens, context starting at
   * the prompt), plus a model switch when another model is resident. Tools: calls x per-call
   * average (concurrency is the scheduler's to apply, not the cost model's).
   */
  estimate(node: CostNode, state: EstimateState = {}): Estimate {
    const calls = Math.max(0, state.calls ?? 1);
    const none: Estimate = {
      ms: 0,
      prefillMs: 0,
      decodeMs: 0,
      switchMs: 0,
      warmupMs: 0,
      footprintBytes: 0,
      toolMs: 0,
      batches: 0,
      calls: 0,
      promptTokens: 0,
      cachedTokens: 0,
      decodeTokens: 0,
    };
    if (node.kind === "LlmCall") {
      if (calls === 0) return none;
      const a = argsOf(node);
      const model = a.modelKey;
      const prompt =
        state.promptTokens ??
        Math.ceil(((a.prompt?.length ?? 0) + (a.system?.length ?? 0)) / this.charsPerToken);
      const cached = Math.min(state.cachedTokens ?? 0, prompt);
      const output = state.outputTokens ?? this.expectedOutputTokens(node);
      // A batch size the caller gives is within its own KV bound (the optimizer's: the Processor
      // config's budget); without one, the profile's budget bounds the whole-node batch.
      const batch = Math.max(
        1,
        Math.min(state.batchSize ?? this.maxBatch(prompt + output, model), calls),
      );
      const full = Math.floor(calls / batch);
      const rest = calls - full * batch;
      const one = (b: number) => {
        const rows = Array.from({ length: b }, () => ({
          newTokens: prompt - cached,
          cachedTokens: cached,
        }));
        return [this.prefillMs(rows, model), this.decodeMs(output, b, prompt, model)] as const;
      };
      const [pf, dc] = one(batch);
      const [pr, dr] = rest > 0 ? one(rest) : [0, 0];
      const prefillMs = full * pf + pr;
      const decodeMs = full * dc + dr;
      const switchMs =
        state.residentModel !== undefined
          ? this.modelSwitchMs(model ?? this.primary, state.residentModel)
          : 0;
      // The largest batch ends its decode at prompt + output tokens of context: the most memory
      // the node's calls hold. Only growth past what the session ran costs, once.
      const warmupMs = state.warmup === false ? 0 : this.warmupMs(batch, prompt + output, model);
      const footprintBytes = forwardFootprintBytes(
        batch,
        prompt + output,
        this.profile(model).kvBytesPerToken,
      );
      return {
        ms: prefillMs + decodeMs + switchMs + warmupMs,
        prefillMs,
        decodeMs,
        switchMs,
        warmupMs,
        footprintBytes,
        toolMs: 0,
        batches: full + (rest > 0 ? 1 : 0),
        calls,
        promptTokens: calls * prompt,
        cachedTokens: calls * cached,
        decodeTokens: calls * output,
      };
    }
    const key = this.toolKeyOf(node);
    if (key) {
      const declared = argsOf(node).latencyMs;
      if (declared !== undefined && this.tools.observed(key) === 0) {
        this.tools.declare(key, declared);
      }
      const toolMs = calls * this.toolMs(key);
      return { ...none, ms: toolMs, toolMs, calls };
    }
    return none; // relational nodes (Source, Map, Filter, Join, Sink) are CPU work near zero
  }

  /**
   * Generated tokens expected per call: the measured average of the node's signature, else for
   * `choices` the mean label length (the choice trie stops on the label's last token; greedy on
   * a model that is not trained for the task picks any label, so the mean, not the longest),
   * counted by `countTokens` (the model's tokenizer) or characters / charsPerToken; for a
   * schema, the tokens of its typical instance (schema-output.ts); else the share of
   * `maxTokens` the model's free-text answers used so far, else the bound itself.
   */
  expectedOutputTokens(node: CostNode, countTokens?: (text: string) => number | undefined): number {
    const measured = node.signature ? this.outputTokens.get(node.signature) : undefined;
    if (measured) return measured.value;
    const a = argsOf(node);
    const count = (c: string) => countTokens?.(c) ?? Math.ceil(c.length / this.charsPerToken);
    if (a.choices?.length)
      return a.choices.reduce((n, c) => n + Math.max(1, count(c)), 0) / a.choices.length;
    const max = a.maxTokens ?? 64;
    if (a.schema !== undefined) {
      const text = typicalJson(a.schema as Record<string, unknown>);
      return text === undefined ? max : Math.min(max, Math.max(1, count(text)));
    }
    const share = this.freeTextShare.get(this.resolve(a.modelKey));
    return share ? Math.max(1, share.value * max) : max;
  }

  /** Prompt tokens per call measured for this signature, when it ran (prompts read run-time values). */
  measuredPromptTokens(signature: string | undefined): number | undefined {
    return signature ? this.promptTokens.get(signature)?.value : undefined;
  }

  // ---- online learning -----------------------------------------------------------------------

  /**
   * Learns from one measured task: prefill calls and decode steps join the fit's samples (refit
   * every `refitEvery`), loads and KV moves update their averages, tool calls their average.
   */
  observe(obs: Observation, measuredMs: number): void {
    if (!Number.isFinite(measuredMs) || measuredMs < 0) return;
    if (obs.kind === "tool") return this.tools.observe(obs.key, measuredMs);
    const s = this.state(obs.model);
    if (obs.kind === "load") {
      s.load.observe(measuredMs);
      s.profile.loadMs = s.load.value;
    } else if (obs.kind === "kv-move") {
      if (obs.bytes > 0 && measuredMs > 0) {
        s.moveBytesPerMs.observe(obs.bytes / Math.max(measuredMs - s.profile.kvMove.fixedMs, 1e-6));
        s.profile.kvMove.bytesPerMs = s.moveBytesPerMs.value;
      }
    } else if (obs.kind === "prefill") {
      if (obs.rows.length === 0 || measuredMs <= 0) return;
      const longest = Math.max(...obs.rows.map((r) => r.newTokens + r.cachedTokens));
      const steady = predictPrefillMs(s.profile.prefill, obs.rows);
      if (this.noteForward(s, obs.rows.length, longest, measuredMs - steady)) return;
      push(s.online.prefill, { rows: obs.rows, ms: measuredMs }, this.maxOnline);
      this.maybeRefit(s);
    } else {
      const steps = Math.max(1, obs.steps ?? 1);
      if (obs.batch <= 0 || measuredMs <= 0) return;
      const steady = predictDecodeMs(s.profile.decode, steps, obs.batch, obs.context);
      if (this.noteForward(s, obs.batch, obs.context + steps, measuredMs - steady)) return;
      // A span of steps is recorded as one step at its mean context (the kv term is linear in T).
      const context = obs.context + (steps - 1) / 2;
      push(s.online.decode, { batch: obs.batch, context, ms: measuredMs / steps }, this.maxOnline);
      this.maybeRefit(s);
    }
  }

  /**
   * Learns how many tokens an LLM node generates per call (its signature's average) and, for a
   * free-text node, the share of its `maxTokens` the model used: the first estimate of another
   * free-text node of the model starts from it instead of the bound (measured on the shipped
   * model: answers use about a fifth of maxTokens, so the bound was 4-5x over).
   */
  observeOutputTokens(signature: string, tokens: number, node?: CostNode): void {
    learn(this.outputTokens, signature, tokens);
    const a = node ? argsOf(node) : undefined;
    if (a && !a.choices?.length && a.schema === undefined && a.maxTokens)
      learn(this.freeTextShare, this.resolve(a.modelKey), Math.min(1, tokens / a.maxTokens));
  }

  /**
   * Learns the share of a node's rows that made a call when equal requests merged at run time
   * (dedupe-calls' fan-out whose distinct count only the run knows: repeated tool parameters).
   */
  observeCallShare(signature: string, share: number): void {
    learn(this.callShares, signature, Math.min(1, Math.max(0, share)));
  }

  /** Calls per row measured for this signature, when its fan-out was decided at run time. */
  measuredCallShare(signature: string | undefined): number | undefined {
    return signature ? this.callShares.get(signature)?.value : undefined;
  }

  /** Learns an LLM node's prompt tokens per call (prompts whose values exist only at run time). */
  observePromptTokens(signature: string, tokens: number): void {
    learn(this.promptTokens, signature, tokens);
  }

  /** Records one node's estimated and measured time for `halo.lastRun`. */
  record(entry: Omit<EstimateRecord, "relError">): EstimateRecord {
    const full = { ...entry, relError: relativeError(entry.estimatedMs, entry.measuredMs) };
    this.records.push(full);
    return full;
  }

  /** Estimated vs measured per node since the last `clearRecords`, with the median error. */
  estimatedVsMeasured(): { records: EstimateRecord[]; medianRelError: number } {
    return {
      records: [...this.records],
      medianRelError: median(this.records.map((r) => r.relError)),
    };
  }

  clearRecords(): void {
    this.records.length = 0;
  }

  /**
   * A forward call ran, `excessMs` over what the formulas give for it. When it grew the
   * session's footprint, the high-water mark moves and the excess refines c_grow (least squares
   * through the origin, the calibrated value counting as one 1-MiB sample); such a call says
   * nothing about the steady formulas, so it returns true and is not fit there. The calibration
   * target is a session of its own, and the runtime allocates more per call than it (measured on
   * the shipped model: c_grow 5.6 ms/MiB calibrated, 50-60 ms/MiB in collect runs), so runs teach it.
   */
  private noteForward(
    s: ModelState,
    batch: number,
    contextTokens: number,
    excessMs: number,
  ): boolean {
    const bytes = forwardFootprintBytes(batch, contextTokens, s.profile.kvBytesPerToken);
    const growth = bytes - s.highWaterBytes;
    if (!(growth > 0)) return false;
    s.highWaterBytes = bytes;
    const x = growth / 2 ** 20;
    s.warmupFit.xy += x * Math.max(0, excessMs);
    s.warmupFit.xx += x * x;
    s.profile.warmup = { msPerMiB: s.warmupFit.xy / s.warmupFit.xx };
    return true;
  }

  private maybeRefit(s: ModelState): void {
    if (++s.pending < this.refitEvery) return;
    s.pending = 0;
    const p = s.profile;
    // Online samples describe this session's real load; calibration samples keep every
    // constant identifiable when online shapes are all alike (one batch size, say).
    if (s.online.prefill.length > 0 && p.samples.prefill.length + s.online.prefill.length >= 3) {
      const pf = fitPrefill([...p.samples.prefill, ...s.online.prefill]);
      p.prefill = pf.constants;
      p.fit.prefill = pf.quality;
    }
    if (s.online.decode.length > 0 && p.samples.decode.length + s.online.decode.length >= 3) {
      const dc = fitDecode([...p.samples.decode, ...s.online.decode]);
      p.decode = dc.constants;
      p.fit.decode = dc.quality;
    }
  }

  private resolve(model?: string): string {
    if (model === undefined) return this.primary;
    return this.aliases.get(model) ?? model;
  }

  private state(model?: string): ModelState {
    return this.models.get(this.resolve(model)) ?? this.models.get(this.primary)!;
  }
}

/** A moving average per key, starting at the first value seen. */
function learn(averages: Map<string, MovingAverage>, key: string, value: number): void {
  const avg = averages.get(key);
  if (avg) avg.observe(value);
  else averages.set(key, new MovingAverage(value, 0)).get(key)!.observe(value);
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}
