// Progress of a long collect(): rows done / total, LLM tokens per second, prefix-cache hit rate,
// tool calls in flight, what the run waits for (a server's rate limit), elapsed and estimated
// remaining.
//
// Where it goes and how often: live-output.ts (a display replaced in place in a notebook, a line
// on stderr in a terminal, throttled to 4 renders a second by default). Callers report every row;
// a call that does not render costs one clock read and a few additions (measured 0.1-0.6 us per
// call on this shared 2-core machine: noise next to a millisecond LLM row).
import type { MimeBundle } from "./host.ts";
import { escapeHtml } from "./html.ts";
import { formatCompact, formatCount, formatMs, formatPercent } from "./format.ts";
import { LiveOutput, type LiveOutputOptions } from "./live-output.ts";

export interface ProgressOptions extends LiveOutputOptions {
  /** Rows the collect will produce (or process); 0 or undefined when unknown. */
  totalRows?: number;
  /** Shown before the numbers, e.g. "collect" or a frame name. */
  label?: string;
}

export interface ProgressSnapshot {
  label: string;
  rowsDone: number;
  totalRows: number;
  elapsedMs: number;
  /** Estimated remaining time; undefined until a row is done or when the total is unknown. */
  remainingMs?: number;
  /** LLM tokens (prefilled + decoded) per second since the start. */
  tokensPerSecond: number;
  decodeTokens: number;
  prefillTokens: number;
  cachedTokens: number;
  /** Cached prompt tokens / all prompt tokens; NaN before any prompt. */
  cacheHitRate: number;
  toolCallsInFlight: number;
  toolCallsDone: number;
  /** Waits imposed from outside now (a rate limit, a Retry-After), longest first. */
  waits: { label: string; remainingMs: number }[];
  finished: boolean;
  /** How it ended, once finished: a cancelled or failed collect must not read as done. */
  outcome?: ProgressOutcome;
  /** With `collect({ budget })`: spent against the budget, "1,234 tokens of 5,000 tokens". */
  budget?: string;
}

export type ProgressOutcome = "done" | "cancelled" | "failed" | "over budget";

export class ProgressReporter {
  private readonly label: string;
  private totalRows: number;
  private readonly out: LiveOutput;
  private readonly startMs: number;
  private rowsDone = 0;
  private prefillTokens = 0;
  private cachedTokens = 0;
  private decodeTokens = 0;
  private toolsInFlight = 0;
  private toolsDone = 0;
  private waits: { label: string; untilMs: number }[] = [];
  private finished = false;
  private outcome: ProgressOutcome | undefined;
  private budget: string | undefined;

  constructor(options: ProgressOptions = {}) {
    const total = options.totalRows ?? 0;
    if (!Number.isFinite(total) || total < 0) {
      throw new RangeError(`ProgressReporter: totalRows must be a count >= 0, got ${total}`);
    }
    this.label = options.label ?? "collect";
    this.totalRows = total;
    this.out = new LiveOutput(options);
    this.startMs = this.out.now();
  }

  /** Renders so far (tests check throttling with it). */
  get renders(): number {
    return this.out.renders;
  }

  /** Sets the total when it becomes known (after a filter, say). */
  setTotal(totalRows: number): void {
    this.totalRows = Math.max(0, totalRows);
    this.tick();
  }

  /** `n` more rows done (default 1). */
  addRows(n = 1): void {
    this.rowsDone += n;
    this.tick();
  }

  /** LLM work done: tokens run through prefill, reused from cache, and decoded. */
  addTokens(t: { prefill?: number; cached?: number; decode?: number }): void {
    this.prefillTokens += t.prefill ?? 0;
    this.cachedTokens += t.cached ?? 0;
    this.decodeTokens += t.decode ?? 0;
    this.tick();
  }

  toolStarted(n = 1): void {
    this.toolsInFlight += n;
    this.tick();
  }

  toolFinished(n = 1): void {
    this.toolsInFlight = Math.max(0, this.toolsInFlight - n);
    this.toolsDone += n;
    this.tick();
  }

  /** What the run waits for now, each with the time left (replaces the previous list). */
  setWaits(waits: { label: string; ms: number }[]): void {
    const now = this.out.now();
    this.waits = waits.map((w) => ({ label: w.label, untilMs: now + w.ms }));
    this.tick();
  }

  /** The run's spending against its budget, as text (replaces the previous). */
  setBudget(text: string): void {
    this.budget = text;
    this.tick();
  }

  snapshot(): ProgressSnapshot {
    const now = this.out.now();
    const elapsedMs = Math.max(0, now - this.startMs);
    const prompt = this.prefillTokens + this.cachedTokens;
    const s: ProgressSnapshot = {
      label: this.label,
      rowsDone: this.rowsDone,
      totalRows: this.totalRows,
      elapsedMs,
      tokensPerSecond:
        elapsedMs > 0 ? ((this.prefillTokens + this.decodeTokens) * 1000) / elapsedMs : 0,
      decodeTokens: this.decodeTokens,
      prefillTokens: this.prefillTokens,
      cachedTokens: this.cachedTokens,
      cacheHitRate: prompt > 0 ? this.cachedTokens / prompt : Number.NaN,
      toolCallsInFlight: this.toolsInFlight,
      toolCallsDone: this.toolsDone,
      waits: this.finished
        ? []
        : this.waits
            .map((w) => ({ label: w.label, remainingMs: Math.max(0, w.untilMs - now) }))
            .sort((a, b) => b.remainingMs - a.remainingMs),
      finished: this.finished,
    };
    if (this.outcome) s.outcome = this.outcome;
    if (this.budget !== undefined) s.budget = this.budget;
    if (this.totalRows > 0 && this.rowsDone > 0 && !this.finished) {
      // Linear in rows: LLM rows dominate and cost about the same each once batching settles.
      s.remainingMs = (elapsedMs * Math.max(0, this.totalRows - this.rowsDone)) / this.rowsDone;
    }
    return s;
  }

  /** Final render (always shown, never throttled); ends the terminal line. */
  finish(outcome: ProgressOutcome = "done"): void {
    if (this.finished) return;
    this.finished = true;
    this.outcome = outcome;
    this.out.final(this.view());
  }

  private tick(): void {
    if (!this.finished) this.out.tick(() => this.view());
  }

  private view() {
    const snap = this.snapshot();
    return { line: progressLine(snap), bundle: progressBundle(snap) };
  }
}

/** "collect 120/400 rows (30%) · 1.2k tok/s · cache 73% · 3 tool calls · 2.1 s, ~4.9 s left" */
export function progressLine(s: ProgressSnapshot): string {
  const parts: string[] = [];
  const rows =
    s.totalRows > 0
      ? `${formatCount(s.rowsDone)}/${formatCount(s.totalRows)} rows (${formatPercent(Math.min(1, s.rowsDone / s.totalRows))})`
      : `${formatCount(s.rowsDone)} rows`;
  parts.push(`${s.label} ${rows}`);
  if (s.prefillTokens + s.decodeTokens > 0) parts.push(`${formatCompact(s.tokensPerSecond)} tok/s`);
  if (!Number.isNaN(s.cacheHitRate)) parts.push(`cache ${formatPercent(s.cacheHitRate)}`);
  if (s.toolCallsInFlight > 0 || s.toolCallsDone > 0) {
    parts.push(`${s.toolCallsInFlight} tool call${s.toolCallsInFlight === 1 ? "" : "s"} in flight`);
  }
  const wait = waitText(s);
  if (wait) parts.push(wait);
  if (s.budget !== undefined) parts.push(`budget ${s.budget}`);
  const time = s.finished
    ? s.outcome !== undefined && s.outcome !== "done"
      ? `${s.outcome} after ${formatMs(s.elapsedMs)}`
      : `done in ${formatMs(s.elapsedMs)}`
    : s.remainingMs !== undefined
      ? `${formatMs(s.elapsedMs)}, ~${formatMs(s.remainingMs)} left`
      : formatMs(s.elapsedMs);
  parts.push(time);
  return parts.join(" · ");
}

/** "waiting 4.2 s: rpm 60 at api.example.com (+1 more)" */
function waitText(s: ProgressSnapshot): string | undefined {
  const [first, ...rest] = s.waits;
  if (!first) return undefined;
  const more = rest.length > 0 ? ` (+${rest.length} more)` : "";
  return `waiting ${formatMs(first.remainingMs)}: ${first.label}${more}`;
}

export function progressBundle(s: ProgressSnapshot): MimeBundle {
  const frac = s.totalRows > 0 ? Math.min(1, s.rowsDone / s.totalRows) : s.finished ? 1 : 0;
  const pct = (frac * 100).toFixed(1);
  const bad = s.outcome !== undefined && s.outcome !== "done";
  const colour = bad ? "#e15759" : s.finished ? "#59a14f" : "#4e79a7";
  const stat = (name: string, value: string) =>
    `<span style="margin-right:14px;white-space:nowrap;display:inline-block"><span style="color:#777">${escapeHtml(name)}</span> ${escapeHtml(value)}</span>`;
  const stats = [
    stat(
      "rows",
      s.totalRows > 0
        ? `${formatCount(s.rowsDone)} / ${formatCount(s.totalRows)}`
        : formatCount(s.rowsDone),
    ),
    stat("LLM", `${formatCompact(s.tokensPerSecond)} tok/s`),
    stat("cache hits", Number.isNaN(s.cacheHitRate) ? "–" : formatPercent(s.cacheHitRate)),
    stat("tool calls in flight", String(s.toolCallsInFlight)),
    ...(s.waits.length > 0 ? [stat("waiting", waitText(s)!.replace(/^waiting /, ""))] : []),
    ...(s.budget !== undefined ? [stat("budget", s.budget)] : []),
    stat("elapsed", formatMs(s.elapsedMs)),
    stat(
      s.finished ? (s.outcome ?? "done") : "remaining",
      s.finished
        ? bad
          ? "✗"
          : "✓"
        : s.remainingMs !== undefined
          ? `~${formatMs(s.remainingMs)}`
          : "–",
    ),
  ].join("");
  const html =
    `<div class="halo-progress" style="font-family:sans-serif;font-size:12px;max-width:760px">` +
    `<div style="font-weight:bold;margin-bottom:3px">${escapeHtml(s.label)}</div>` +
    `<div style="background:#e6e6e6;border-radius:3px;height:10px;overflow:hidden">` +
    `<div style="background:${colour};width:${pct}%;height:10px"></div></div>` +
    `<div style="margin-top:4px">${stats}</div></div>`;
  return { "text/html": html, "text/plain": progressLine(s) };
}
