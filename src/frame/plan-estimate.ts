// `lf.estimate()` / `halo.estimateAll([...])`: what a collect would cost, read off the plan the
// optimizer made for it (the same passes, context and kept tables as the run), with nothing run.
// Every figure is the optimizer's own annotation (physical.estimate, report.totals), which is
// also what explain({ optimized: true }) prints, so the two never disagree.
import { DISPLAY_SYMBOL, type MimeBundle } from "../display/host.ts";
import { escapeHtml } from "../display/html.ts";
import { dataFrameBundle } from "../display/table.ts";
import { predictedMs, tokenFigures } from "../optimizer/explain-report.ts";
import { CALL_KINDS, type PlanDag } from "../plan/types.ts";

export interface NodeCostEstimate {
  id: number;
  label: string;
  kind: string;
  /** Rows reaching the node (known rows, else an upper bound). */
  rows: number;
  /** Calls made (after dedupe-calls' fan-out; 0 when kept). */
  calls: number;
  seconds: number;
  promptTokens: number;
  /** Of the prompt tokens, those expected from the prefix cache. */
  cachedTokens: number;
  decodeTokens: number;
  /** At the model's price (`halo.openai({ price })`). */
  usd?: number;
  /** An earlier collect's table stands in for the node: nothing runs. */
  kept: boolean;
}

export interface PlanEstimate {
  /**
   * Predicted seconds: the schedule's makespan (tools run beside the model, as many at once as
   * the tool pool allows); docs/cost-model.md says what it leaves out.
   */
  seconds: number;
  promptTokens: number;
  cachedTokens: number;
  decodeTokens: number;
  /** promptTokens + decodeTokens: what a `budget.tokens` is compared with. */
  tokens: number;
  llmCalls: number;
  toolCalls: { sql: number; http: number; function: number };
  /** Over the LLM nodes whose model has a price; absent when none has. */
  usd?: number;
  /** Call nodes in plan order. */
  nodes: NodeCostEstimate[];
  summary(): string;
  [DISPLAY_SYMBOL](): MimeBundle;
}

/** The estimate of an optimized plan (the annotations optimize() wrote). */
export function planEstimate(dag: PlanDag): PlanEstimate {
  const report = dag.nodes[dag.root]?.physical?.report;
  if (!report) throw new Error("planEstimate: the plan was not optimized (no estimate on it)");
  const totals = report.totals;
  const ms = predictedMs(report);
  const nodes: NodeCostEstimate[] = [];
  for (const n of dag.nodes) {
    const e = n.physical?.estimate;
    if (!CALL_KINDS.has(n.kind) || !e) continue;
    nodes.push({
      id: n.id,
      label: n.label,
      kind: n.kind,
      rows: e.rows,
      calls: e.calls,
      seconds: e.afterMs / 1000,
      promptTokens: e.promptTokens,
      cachedTokens: e.cachedTokens,
      decodeTokens: e.decodeTokens,
      ...(e.usd !== undefined && { usd: e.usd }),
      kept: e.kept === true,
    });
  }
  const summary = () => {
    const lines = [
      `estimate: ${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s, ${totals.llmCalls} LLM calls, tool calls sql ${totals.toolCalls.sql} / http ${totals.toolCalls.http} / function ${totals.toolCalls.function}${tokenFigures(totals) ? `; ${tokenFigures(totals)}` : ""}`,
    ];
    for (const n of nodes)
      lines.push(
        `  #${n.id} ${n.kind} ${n.label}: ${n.kept ? "kept from an earlier collect, nothing runs" : `rows=${n.rows} calls=${n.calls} ${(n.seconds * 1000).toFixed(1)}ms${tokenFigures(n) ? ` ${tokenFigures(n)}` : ""}`}`,
      );
    return lines.join("\n");
  };
  return {
    seconds: ms / 1000,
    promptTokens: totals.promptTokens,
    cachedTokens: totals.cachedTokens,
    decodeTokens: totals.decodeTokens,
    tokens: totals.promptTokens + totals.decodeTokens,
    llmCalls: totals.llmCalls,
    toolCalls: { ...totals.toolCalls },
    ...(totals.usd !== undefined && { usd: totals.usd }),
    nodes,
    summary,
    [DISPLAY_SYMBOL]: () => estimateBundle(nodes, summary()),
  };
}

/** A table of the nodes (HTML) and the summary as text. */
function estimateBundle(nodes: NodeCostEstimate[], text: string): MimeBundle {
  const rows = nodes.map((n) => ({
    node: `#${n.id} ${n.label}`,
    kind: n.kind,
    rows: n.rows,
    calls: n.calls,
    seconds: Number(n.seconds.toFixed(3)),
    prompt: Math.round(n.promptTokens),
    cached: Math.round(n.cachedTokens),
    decode: Math.round(n.decodeTokens),
    ...(nodes.some((x) => x.usd !== undefined) && { usd: n.usd ?? null }),
    kept: n.kept,
  }));
  const html = dataFrameBundle(rows, { maxRows: 200 })["text/html"] as string;
  const head = escapeHtml(text.split("\n")[0]!);
  return { "text/html": `<div><p>${head}</p>${html}</div>`, "text/plain": text };
}
