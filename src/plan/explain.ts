// explain(): the plan as text, a product surface golden-tested in test/plan/explain.test.ts.
// "text" lists nodes in execution order, one per line; "tree" draws the DAG from the root,
// printing a shared node once and referring back to it afterwards.
import type { NodeStats } from "../processor/trace/trace.ts";
import { topologicalOrder } from "./dag.ts";
import { describeNode, nodeFlags } from "./describe.ts";
import type { PlanDag, PlanNode } from "./types.ts";
import { explainReport } from "../optimizer/explain-report.ts";

export interface ExplainOptions {
  format?: "text" | "tree";
  /** Show each node's signature (off by default: hashes make diffs noisy). */
  signatures?: boolean;
  /** Measured stats from a run (`halo.lastRun.nodes`), shown per node. */
  stats?: NodeStats[];
  /** Extra text per node (the cost model's estimates, a pass's notes). */
  annotate?: (node: PlanNode) => string | undefined;
  /** The optimizer's report (each pass's effect, estimates, groups, epochs) when the plan has one. */
  report?: boolean;
}

function suffix(node: PlanNode, dag: PlanDag, options: ExplainOptions): string {
  const extra: string[] = nodeFlags(node);
  const stat = options.stats?.find((s) => s.nodeId === node.id);
  if (stat) {
    extra.push(`rows=${stat.rows} calls=${stat.calls} ${stat.measuredMs.toFixed(1)}ms`);
    if (stat.prefillTokens || stat.decodeTokens)
      extra.push(
        `tokens prefill=${stat.prefillTokens} cached=${stat.cachedTokens} decode=${stat.decodeTokens}`,
      );
  }
  const note = options.annotate?.(node);
  if (note) extra.push(note);
  const report = options.report ? explainReport.node(node, dag) : undefined;
  if (report) extra.push(report);
  if (options.signatures) extra.push(`sig=${node.signature}`);
  return extra.length ? `  [${extra.join("; ")}]` : "";
}

function head(node: PlanNode): string {
  const named =
    node.kind === "Sink" || node.kind === "SinkMultiple" || node.label === ""
      ? ""
      : ` ${node.label}`;
  return `${node.kind}${named}`;
}

export function explain(dag: PlanDag, options: ExplainOptions = {}): string {
  const order = topologicalOrder(dag);
  const frames = dag.sinks.length;
  const lines = [`plan: ${order.length} nodes, ${frames} frame${frames === 1 ? "" : "s"}`];
  if (options.report) lines.push(...explainReport.header(dag));
  if ((options.format ?? "text") === "text") {
    const width = Math.max(...order.map((id) => `#${id} ${head(dag.nodes[id]!)}`.length));
    for (const id of order) {
      const node = dag.nodes[id]!;
      const from = node.inputs.length ? `  <- ${node.inputs.map((i) => `#${i}`).join(", ")}` : "";
      lines.push(
        `${`#${id} ${head(node)}`.padEnd(width)}  ${describeNode(node)}${from}${suffix(node, dag, options)}`,
      );
    }
    return lines.join("\n");
  }
  const printed = new Set<number>();
  const walk = (id: number, prefix: string, branch: string, last: boolean): void => {
    const node = dag.nodes[id]!;
    const lead = prefix + branch;
    if (printed.has(id)) {
      lines.push(`${lead}#${id} (shown above)`);
      return;
    }
    printed.add(id);
    lines.push(`${lead}#${id} ${head(node)}: ${describeNode(node)}${suffix(node, dag, options)}`);
    const childPrefix = prefix + (branch === "" ? "" : last ? "   " : "│  ");
    node.inputs.forEach((input, i) =>
      walk(
        input,
        childPrefix,
        i === node.inputs.length - 1 ? "└─ " : "├─ ",
        i === node.inputs.length - 1,
      ),
    );
  };
  walk(dag.root, "", "", true);
  return lines.join("\n");
}
