// The optimizer's part of explain({ optimized: true }): a few header lines (planner time, total
// estimate before and after, each pass's effect, then each analysis's and the epochs) and a note
// per node (its estimate, fan-out, prefix sharing and predicted cache hits, gathering, worker,
// and from the analyses its batch size and epoch).
import type { PlanDag, PlanNode } from "../plan/types.ts";
import type { NodeEstimate, PlanReport } from "./physical.ts";

const ms = (v: number) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)}ms`;
const count = (v: number) => Math.round(v).toLocaleString("en-US");
/** Dollars to 4 significant digits (a plan of short prompts costs fractions of a cent). */
export const usd = (v: number) => `$${v >= 1 ? v.toFixed(2) : v.toPrecision(4)}`;

/** Tokens and dollars of an estimate, as explain and `lf.estimate()` both print them. */
export function tokenFigures(
  e: Pick<NodeEstimate, "promptTokens" | "cachedTokens" | "decodeTokens" | "usd">,
): string {
  const parts =
    e.promptTokens > 0 || e.decodeTokens > 0
      ? [
          `prompt ${count(e.promptTokens)} tok (cached ${count(e.cachedTokens)})`,
          `decode ${count(e.decodeTokens)} tok`,
        ]
      : [];
  if (e.usd !== undefined) parts.push(usd(e.usd));
  return parts.join(", ");
}

/**
 * The plan's predicted time: the schedule's makespan when the analyses ran (tool calls divided
 * by the tool pool's limits, tools beside the model), else the sum of the nodes' estimates.
 */
export function predictedMs(report: PlanReport): number {
  return report.schedule?.makespanMs ?? report.totals.ms;
}

function totalsLine(report: PlanReport): string {
  const t = report.totals;
  const tools = t.toolCalls;
  const figures = tokenFigures(t);
  return `  estimate: ${ms(predictedMs(report))}${report.schedule ? ` (schedule; nodes one at a time ${ms(t.ms)})` : ""}; ${count(t.llmCalls)} LLM calls; tool calls sql ${count(tools.sql)}, http ${count(tools.http)}, function ${count(tools.function)}${figures ? `; ${figures}` : ""}`;
}

function header(dag: PlanDag): string[] {
  const report = dag.nodes[dag.root]?.physical?.report;
  if (!report) return [];
  const s = report.schedule;
  const lines = [
    `optimizer: planned in ${ms(report.plannerMs)}; estimated ${ms(report.beforeMs)} -> ${ms(report.afterMs)}${s ? `; schedule ${ms(s.makespanMs)} (${s.method}, ${s.epochs.length} epochs) vs ${ms(s.serialMs)} one node at a time` : ""}`,
  ];
  lines.push(totalsLine(report));
  for (const p of report.passes)
    lines.push(`  ${p.name}: ${p.applied ? p.effect : "off or nothing to do"}`);
  for (const a of report.analyses ?? [])
    lines.push(`  analysis ${a.name}: ${a.applied ? a.effect : "nothing to read"}`);
  s?.epochs.forEach((e, i) => {
    const parts = e.llm.map((l) => `${l.lane} ${l.nodeIds.map((id) => `#${id}`).join(" ")}`);
    if (e.tools.length) parts.push(`tools ${e.tools.map((id) => `#${id}`).join(" ")}`);
    if (e.prepared.length)
      parts.push(`prepared ahead ${e.prepared.map((id) => `#${id}`).join(" ")}`);
    lines.push(`  epoch ${i}: ${parts.join("; ")} (${ms(e.ms)})`);
  });
  return lines;
}

function node(n: PlanNode, dag: PlanDag): string | undefined {
  const p = n.physical;
  if (!p) return undefined;
  const report = dag.nodes[dag.root]?.physical?.report;
  const parts: string[] = [];
  const e = p.estimate;
  if (e?.kept) parts.push("kept from an earlier collect: nothing runs");
  else if (e) {
    parts.push(`est ${ms(e.beforeMs)} -> ${ms(e.afterMs)}`);
    if (!(p.fanOut?.instances != null && p.fanOut.distinct != null))
      parts.push(`${count(e.calls)} call${e.calls === 1 ? "" : "s"}`);
    const figures = tokenFigures(e);
    if (figures) parts.push(figures);
  }
  if (p.fanOut?.instances != null && p.fanOut.distinct != null)
    parts.push(`calls ${p.fanOut.distinct}/${p.fanOut.instances} rows`);
  else if (p.fanOut) parts.push("fan-out at run time");
  if (p.prefix) {
    const x = p.prefix;
    parts.push(
      `prefix ${x.promptTokens - x.uniqueTokens}/${x.promptTokens} tok shared${x.exact ? "" : " (known part)"}, cache hits ${x.predictedCachedTokens} (row order ${x.rowOrderCachedTokens}), ${x.groups.length} group${x.groups.length === 1 ? "" : "s"}`,
    );
  }
  const batch = report?.batchSizes?.find((b) => b.nodeId === n.id);
  if (batch) parts.push(`batch ${batch.size}x${batch.batches} (${batch.reason})`);
  if (p.gather) parts.push("gathered");
  if (p.placement)
    parts.push(
      `${p.placement.lane}${p.placement.switchMs > 0 ? ` +load ${ms(p.placement.switchMs)}` : ""}`,
    );
  const epoch = report?.schedule?.epochs.findIndex(
    (e) => e.tools.includes(n.id) || e.llm.some((l) => l.nodeIds.includes(n.id)),
  );
  if (epoch !== undefined && epoch >= 0) parts.push(`epoch ${epoch}`);
  return parts.length ? parts.join(", ") : undefined;
}

/** What explain({ report: true }) adds: header lines, and a note per node. */
export const explainReport = { header, node };
