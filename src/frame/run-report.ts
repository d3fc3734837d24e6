// `halo.lastRun`: the RunTrace of the last collect plus a few totals, displayable as a summary plus
// charts (src/display/run-report.ts).
import type { RunTrace } from "../processor/trace/trace.ts";
import type { CallCounts } from "../executor/call-store.ts";
import { DISPLAY_SYMBOL, type MimeBundle } from "../display/host.ts";
import { budgetLine, type Budget, type Spent } from "./budget.ts";

export interface RunReport extends RunTrace {
  executor: string;
  /** Plan nodes whose results came from earlier collects of this session. */
  reusedNodeIds: number[];
  llmCalls: number;
  toolCalls: number;
  rowsOut: number[];
  /** Per result table: the column types the plan knows (a schema's, text answers'). */
  dtypes: Record<string, string>[];
  /**
   * The run's signal aborted it (an interrupt or `collect({ signal })`). With onError "null" the
   * tables still came back: `interruptedRows` rows have null outputs and say so in `_errors`.
   */
  cancelled: boolean;
  interruptedRows: number;
  /**
   * Calls answered from kept results instead of being made: from this session's memory, and
   * from the disk store (results of earlier sessions, or of a run that crashed).
   */
  callsFromStore: { session: number; disk: number };
  /** New call results this run kept (a rerun after a failure or interrupt reuses them). */
  callsKept: number;
  /** Median |estimated - measured| / measured over the call nodes that ran (undefined: none). */
  estimateError?: number;
  /**
   * KV moved between the fast and the host tier of the workers' prefix caches in this run (from
   * the trace's `kv-move` tasks): out under memory pressure, in when a request needed it.
   */
  kvTierMoves: { out: number; in: number; bytesOut: number; bytesIn: number };
  /** With `collect({ budget })`: the limits, what the run spent, and whether it was stopped. */
  budget?: RunBudget;
  /** Text table per node, also the `text/plain` display. */
  summary(): string;
  /** The summary plus the charts (timeline, cost, tokens, cache hits, batch sizes). */
  [DISPLAY_SYMBOL](): Promise<MimeBundle>;
}

export interface RunBudget {
  limits: Budget;
  spent: Spent;
  stopped: boolean;
}

export function makeRunReport(
  trace: RunTrace,
  executor: string,
  reused: number[],
  rowsOut: number[],
  estimateError?: number,
  outcome: {
    cancelled: boolean;
    interruptedRows: number;
    calls?: CallCounts;
    budget?: RunBudget;
  } = {
    cancelled: false,
    interruptedRows: 0,
  },
  dtypes: Record<string, string>[] = [],
): RunReport {
  const llmCalls = trace.nodes.filter((n) => n.kind === "LlmCall").reduce((a, n) => a + n.calls, 0);
  const toolCalls = trace.nodes
    .filter((n) => n.kind === "SqlCall" || n.kind === "HttpCall" || n.kind === "FnCall")
    .reduce((a, n) => a + n.calls, 0);
  const calls = outcome.calls ?? { session: 0, disk: 0, kept: 0 };
  const kvTierMoves = { out: 0, in: 0, bytesOut: 0, bytesIn: 0 };
  for (const t of trace.tasks) {
    if (t.kind !== "kv-move") continue;
    if (t.detail === "out") {
      kvTierMoves.out++;
      kvTierMoves.bytesOut += t.bytes ?? 0;
    } else if (t.detail === "in") {
      kvTierMoves.in++;
      kvTierMoves.bytesIn += t.bytes ?? 0;
    }
  }
  const summary = () => {
    const lines = [
      `run: ${trace.wallMs.toFixed(0)} ms on ${executor}, ${llmCalls} LLM calls, ${toolCalls} tool calls, rows out ${rowsOut.join(", ")}`,
    ];
    if (outcome.cancelled)
      lines.push(
        rowsOut.length > 0
          ? `  cancelled: ${outcome.interruptedRows} rows interrupted before they finished (null outputs, see _errors)`
          : "  cancelled: the run stopped before it finished (no table)",
      );
    if (outcome.budget)
      lines.push(
        `  budget: ${budgetLine(outcome.budget.spent, outcome.budget.limits)}${outcome.budget.stopped ? " (stopped: over budget)" : ""}`,
      );
    if (calls.session + calls.disk + calls.kept > 0)
      lines.push(
        `  kept results: ${calls.session} calls from this session, ${calls.disk} from disk; ${calls.kept} new results kept`,
      );
    const moved = trace.kvMigration;
    if (moved && moved.moves + moved.declined > 0)
      lines.push(
        `  KV between workers: ${moved.moves} moves (${moved.movedTokens} tokens), ${moved.declined} declined as dearer than recomputing (${moved.declinedTokens} tokens)`,
      );
    if (kvTierMoves.out + kvTierMoves.in > 0)
      lines.push(
        `  KV tiers: ${kvTierMoves.out} moves out to host memory (${mib(kvTierMoves.bytesOut)}), ${kvTierMoves.in} back in (${mib(kvTierMoves.bytesIn)})`,
      );
    dtypes.forEach((types, i) => {
      const typed = Object.entries(types).map(([c, t]) => `${c}: ${t}`);
      if (typed.length > 0)
        lines.push(`  columns${dtypes.length > 1 ? ` of frame ${i}` : ""}: ${typed.join(", ")}`);
    });
    if (estimateError !== undefined)
      lines.push(`  estimates: median error ${(estimateError * 100).toFixed(0)}% per call node`);
    for (const n of trace.nodes) {
      const e = n.estimated;
      const tokens =
        n.prefillTokens || n.decodeTokens || e?.promptTokens
          ? ` prompt=${n.prefillTokens + n.cachedTokens} cached=${n.cachedTokens} decode=${n.decodeTokens}${e ? ` (est prompt=${Math.round(e.promptTokens)} cached=${Math.round(e.cachedTokens)} decode=${Math.round(e.decodeTokens)})` : ""}`
          : "";
      const reuse = reused.includes(n.nodeId)
        ? " (reused)"
        : n.storedCalls
          ? ` (${n.storedCalls} kept)`
          : "";
      lines.push(
        `  #${n.nodeId} ${n.kind}${n.label ? ` ${n.label}` : ""}: rows=${n.rows} calls=${n.calls} ${n.measuredMs.toFixed(1)}ms${n.llmMs !== undefined ? ` llm=${n.llmMs.toFixed(1)}ms` : ""}${n.estimatedMs !== undefined ? ` (est ${n.estimatedMs.toFixed(1)}ms)` : ""}${tokens}${reuse}`,
      );
    }
    return lines.join("\n");
  };
  return {
    ...trace,
    executor,
    reusedNodeIds: reused,
    llmCalls,
    toolCalls,
    rowsOut,
    dtypes,
    kvTierMoves,
    cancelled: outcome.cancelled,
    interruptedRows: outcome.interruptedRows,
    callsFromStore: { session: calls.session, disk: calls.disk },
    callsKept: calls.kept,
    ...(estimateError !== undefined ? { estimateError } : {}),
    ...(outcome.budget && { budget: outcome.budget }),
    summary,
    [DISPLAY_SYMBOL]: async () => {
      // Loaded on first display: vega is not needed to run plans.
      const { runReportBundle } = await import("../display/run-report.ts");
      return { ...(await runReportBundle(trace)), "text/plain": summary() };
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}
