// `collect({ budget: { seconds?, tokens?, usd? } })`: a run refused before it starts when its
// estimate exceeds the budget, and stopped when what it has spent does. The stop is an abort
// of the run's signal, so it keeps what an interrupt keeps: every call that finished is in the
// session's and the disk's result stores, and a rerun makes only the missing calls.
// Tokens are prompt tokens (cached ones included) plus generated ones, as usage.total_tokens
// counts them; seconds run from the start of execution (planning and model loads are before it);
// dollars are the tokens at each node's model price (src/cost/price.ts).
import { usdOf, type ModelPrice } from "../cost/price.ts";
import { usd } from "../optimizer/explain-report.ts";
import type { ProgressEvent } from "../executor/types.ts";
import type { OptimizationFlags } from "../plan/optimize.ts";
import type { LlmArgs, PlanDag } from "../plan/types.ts";
import type { PlanEstimate } from "./plan-estimate.ts";
import { describe } from "./verbs/check.ts";

export interface Budget {
  seconds?: number;
  tokens?: number;
  usd?: number;
}

type Measure = keyof Budget;
const MEASURES: readonly Measure[] = ["seconds", "tokens", "usd"];

/** What a run has spent so far (or an estimate's figures in the same terms). */
export interface Spent {
  seconds: number;
  tokens: number;
  usd: number;
}

/** The budget checked: an object of positive finite numbers; a bad field is named with its value. */
export function checkBudget(value: unknown): Budget {
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(
      `collect: budget must be an object such as { tokens: 100000, seconds: 60, usd: 0.5 }, got ${describe(value)}`,
    );
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!(MEASURES as readonly string[]).includes(k))
      throw new TypeError(`collect: budget.${k} is not a budget (known: ${MEASURES.join(", ")})`);
  const out: Budget = {};
  for (const k of MEASURES) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
      throw new TypeError(
        `collect: budget.${k} must be a number above 0 (${k === "seconds" ? "seconds of run time" : k === "tokens" ? "prompt plus generated tokens" : "US dollars"}), got ${describe(v)}`,
      );
    out[k] = v;
  }
  if (Object.keys(out).length === 0)
    throw new TypeError("collect: budget names no limit: give seconds, tokens or usd");
  return out;
}

const show: Record<Measure, (v: number) => string> = {
  seconds: (v) => `${v.toFixed(v < 10 ? 2 : 1)} s`,
  tokens: (v) => `${Math.round(v).toLocaleString("en-US")} tokens`,
  usd,
};

/** Spent (or estimated) against the budget, one measure per part: "1,234 / 5,000 tokens". */
export function budgetLine(spent: Spent, budget: Budget): string {
  return MEASURES.filter((m) => budget[m] !== undefined)
    .map((m) => `${show[m](spent[m])} of ${show[m](budget[m]!)}`)
    .join(", ");
}

function over(spent: Spent, budget: Budget): Measure[] {
  return MEASURES.filter((m) => budget[m] !== undefined && spent[m] > budget[m]!);
}

/** A budget refused a run before it started, or stopped it. */
export class BudgetError extends Error {
  /** Before the start: the estimate that exceeded it. */
  readonly estimate?: PlanEstimate;
  /** After a stop: what the run spent. */
  readonly spent?: Spent;
  readonly budget: Budget;
  /** Which measures were exceeded. */
  readonly exceeded: Measure[];
  constructor(
    message: string,
    details: { budget: Budget; exceeded: Measure[]; estimate?: PlanEstimate; spent?: Spent },
  ) {
    super(message);
    this.name = "BudgetError";
    this.budget = details.budget;
    this.exceeded = details.exceeded;
    if (details.estimate) this.estimate = details.estimate;
    if (details.spent) this.spent = details.spent;
  }
}

const TOP_NODES = 5;

/**
 * Throws a BudgetError when the estimate exceeds the budget: the top nodes by the exceeded
 * measure, the total against the budget, and what would lower it. `allPasses`: the estimate
 * with every optimizer pass on, when some were off.
 */
export function refuseOverBudget(
  estimate: PlanEstimate,
  budget: Budget,
  flags: OptimizationFlags,
  allPasses: () => PlanEstimate,
): void {
  const total: Spent = {
    seconds: estimate.seconds,
    tokens: estimate.tokens,
    usd: estimate.usd ?? 0,
  };
  const exceeded = over(total, budget);
  if (exceeded.length === 0) return;
  const measure = exceeded[0]!;
  const of = (n: PlanEstimate["nodes"][number]): number =>
    measure === "seconds"
      ? n.seconds
      : measure === "tokens"
        ? n.promptTokens + n.decodeTokens
        : (n.usd ?? 0);
  const top = estimate.nodes
    .filter((n) => of(n) > 0)
    .sort((a, b) => of(b) - of(a))
    .slice(0, TOP_NODES);
  const lines = [
    `collect: the estimate exceeds the budget, so nothing was run: ${budgetLine(total, budget)}`,
    `  top nodes by ${measure}:`,
    ...top.map(
      (n) =>
        `    #${n.id} ${n.kind} ${n.label}: ${show[measure](of(n))} (rows=${n.rows} calls=${n.calls}, prompt ${Math.round(n.promptTokens)} tok, decode ${Math.round(n.decodeTokens)} tok, ${show.seconds(n.seconds)})`,
    ),
    ...hints(estimate, top[0], flags, allPasses, measure).map((h) => `  what would help: ${h}`),
  ];
  throw new BudgetError(lines.join("\n"), { budget, exceeded, estimate });
}

function hints(
  estimate: PlanEstimate,
  top: PlanEstimate["nodes"][number] | undefined,
  flags: OptimizationFlags,
  allPasses: () => PlanEstimate,
  measure: Measure,
): string[] {
  const out: string[] = [];
  const off = (Object.keys(flags) as (keyof OptimizationFlags)[]).filter((k) => !flags[k]);
  if (off.length > 0) {
    const all = allPasses();
    const value = (e: PlanEstimate) =>
      measure === "seconds" ? e.seconds : measure === "tokens" ? e.tokens : (e.usd ?? 0);
    if (value(all) < value(estimate))
      out.push(
        `optimizer pass(es) ${off.join(", ")} are off; with every pass on the estimate is ${show[measure](value(all))}`,
      );
  }
  if (top?.kind === "LlmCall") {
    if (top.decodeTokens > top.promptTokens - top.cachedTokens)
      out.push(
        `#${top.id} ${top.label} mostly generates: give it choices, a schema or a smaller maxTokens`,
      );
    else
      out.push(
        `#${top.id} ${top.label} mostly reads its prompt: filter rows before it (halo.col filters) or shorten the prompt`,
      );
  } else if (top) out.push(`#${top.id} ${top.label}: filter rows before it so fewer calls run`);
  out.push(
    "or raise the budget; calls a stopped run finished are kept, so a rerun makes only the rest",
  );
  return out;
}

/**
 * Tracks a run's spending from its progress events (each LLM node's cumulative tokens) and its
 * clock, and aborts `signal` with a BudgetError the first time it goes over.
 */
export class BudgetMeter {
  private readonly controller = new AbortController();
  private readonly tokens = new Map<number, { prompt: number; cached: number; decode: number }>();
  private readonly prices = new Map<number, ModelPrice>();
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly budget: Budget,
    dag: PlanDag,
    priceOf: (modelKey: string) => ModelPrice | undefined,
  ) {
    for (const n of dag.nodes)
      if (n.kind === "LlmCall") {
        const price = priceOf((n.args as LlmArgs).modelKey);
        if (price) this.prices.set(n.id, price);
      }
    this.armClock();
  }

  /** A seconds budget is checked when it runs out, not only at the next progress event. */
  private armClock(): void {
    const seconds = this.budget.seconds;
    if (seconds === undefined || this.controller.signal.aborted) return;
    const left = seconds * 1000 - (performance.now() - this.started);
    // A timer may fire a millisecond early: checked then, it arms again for what is left.
    this.timer = setTimeout(
      () => {
        this.check();
        this.armClock();
      },
      Math.max(1, left + 1),
    );
    this.timer.unref();
  }

  /** Aborted (with the BudgetError as its reason) once the run goes over. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): BudgetError | undefined {
    return this.controller.signal.aborted
      ? (this.controller.signal.reason as BudgetError)
      : undefined;
  }

  spent(): Spent {
    let tokens = 0;
    let usd = 0;
    for (const [id, t] of this.tokens) {
      tokens += t.prompt + t.decode;
      const price = this.prices.get(id);
      if (price) usd += usdOf(price, t);
    }
    return { seconds: (performance.now() - this.started) / 1000, tokens, usd };
  }

  onProgress(event: ProgressEvent): void {
    if (event.tokens) {
      const t = event.tokens;
      this.tokens.set(event.nodeId, {
        prompt: t.prefill + t.cached,
        cached: t.cached,
        decode: t.decode,
      });
    }
    this.check();
  }

  /** Spent against the budget, for the progress bar. */
  line(): string {
    return budgetLine(this.spent(), this.budget);
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private check(): void {
    if (this.controller.signal.aborted) return;
    const spent = this.spent();
    const exceeded = over(spent, this.budget);
    if (exceeded.length === 0) return;
    this.controller.abort(
      new BudgetError(
        `collect: the run went over its budget and was stopped: ${budgetLine(spent, this.budget)}`,
        { budget: this.budget, exceeded, spent },
      ),
    );
  }
}
