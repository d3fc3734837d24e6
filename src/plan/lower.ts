// LogicalPlan(s) -> PlanDag. Reads each source once, numbers nodes inputs-first, computes
// canonical signatures and merges nodes whose signatures are equal (hash-consing): a step shared
// by several frames collected together, or written twice, becomes one node.
import { randomUUID } from "node:crypto";
import { deriveColumns } from "./columns.ts";
import { hashOf } from "./canonical.ts";
import type { LogicalNode } from "./logical.ts";
import type { NodeArgsByKind, NodeKind, PlanDag, PlanNode, SourceArgs } from "./types.ts";

export interface LowerOptions {
  /**
   * State of a database named by a SQL node (`dbKey`), part of its signature: the embedded
   * DuckDB's version changes when a table is registered or written, so reuse stops.
   */
  dbStateKey?: (dbKey: string) => string;
  /**
   * What identifies the weights behind an LLM node's model key (repo, commit, dtype), part of
   * its signature: results of another commit or dtype are never reused for this one.
   */
  modelStateKey?: (modelKey: string) => string | undefined;
}

/** The arguments that decide a node's result, with closures replaced by their keys. */
export function normalizedArgs(kind: NodeKind, args: NodeArgsByKind[NodeKind]): unknown {
  switch (kind) {
    case "Source":
      return { contentHash: (args as SourceArgs).contentHash };
    case "LlmCall": {
      const { model: _user, ...rest } = args as NodeArgsByKind["LlmCall"];
      return rest;
    }
    case "FnCall": {
      const { fn: _fn, ...rest } = args as NodeArgsByKind["FnCall"];
      return rest;
    }
    case "Map": {
      const m = args as NodeArgsByKind["Map"];
      const op = m.op.type === "fn" ? { type: "fn", fnKey: m.op.fnKey } : m.op;
      return { op, columns: m.columns };
    }
    case "Filter": {
      const p = (args as NodeArgsByKind["Filter"]).predicate;
      return p.type === "fn" ? { type: "fn", fnKey: p.fnKey } : p;
    }
    default:
      return args;
  }
}

export function readSource(node: LogicalNode & { kind: "Source" }): SourceArgs {
  const data = node.args.reader.read();
  return { data, contentHash: hashOf([data.columns, data.rows]), origin: node.args.reader.origin };
}

export function lower(plans: LogicalNode[], options: LowerOptions = {}): PlanDag {
  if (plans.length === 0) throw new Error("lower: no frames given");
  const runNonce = randomUUID();
  const nodes: PlanNode[] = [];
  const byLogical = new Map<LogicalNode, number>();
  const bySignature = new Map<string, number>();

  const push = (
    kind: NodeKind,
    inputs: number[],
    args: NodeArgsByKind[NodeKind],
    label: string,
    volatility: PlanNode["volatility"],
    merge: boolean,
  ): number => {
    const extra: Record<string, unknown> = {};
    if (volatility === "volatile") extra.nonce = randomUUID();
    if (volatility === "run") extra.run = runNonce;
    if (kind === "SqlCall" && options.dbStateKey)
      extra.db = options.dbStateKey((args as NodeArgsByKind["SqlCall"]).dbKey);
    if (kind === "LlmCall" && options.modelStateKey) {
      const model = options.modelStateKey((args as NodeArgsByKind["LlmCall"]).modelKey);
      if (model !== undefined) extra.model = model;
    }
    const signature = hashOf({
      kind,
      args: normalizedArgs(kind, args),
      inputs: inputs.map((i) => nodes[i]!.signature),
      ...extra,
    });
    const existing = merge ? bySignature.get(signature) : undefined;
    if (existing !== undefined) {
      nodes[existing]!.merged += 1;
      return existing;
    }
    const id = nodes.length;
    const columns = deriveColumns(
      kind,
      args,
      inputs.map((i) => nodes[i]!.columns),
    );
    nodes.push({
      id,
      kind,
      inputs,
      args,
      columns,
      label,
      volatility,
      signature,
      merged: 1,
    } as PlanNode);
    bySignature.set(signature, id);
    return id;
  };

  const visit = (node: LogicalNode): number => {
    const known = byLogical.get(node);
    if (known !== undefined) return known;
    const inputs = node.inputs.map(visit);
    const args = node.kind === "Source" ? readSource(node) : node.args;
    const id = push(
      node.kind,
      inputs,
      args as NodeArgsByKind[NodeKind],
      node.label,
      node.volatility,
      true,
    );
    byLogical.set(node, id);
    return id;
  };

  const sinks = plans.map((plan, index) =>
    push("Sink", [visit(plan)], { index }, `frame ${index}`, "stable", false),
  );
  const root =
    sinks.length === 1 ? sinks[0]! : push("SinkMultiple", sinks, {}, "all frames", "stable", false);
  return { nodes, root, sinks };
}
