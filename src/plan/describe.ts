// One line of human text per node: shared by explain() and planGraph() so the text and the
// drawing always agree.
import { formatExpr } from "./expr.ts";
import { columnDtypes, schemaNodeOf } from "../runtime/json-schema/typed-output.ts";
import type { PlanNode } from "./types.ts";

function quote(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ");
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max - 1)}…` : flat);
}

function list(items: string[]): string {
  return `[${items.join(", ")}]`;
}

/** An LLM call's column(s), typed by its schema: `label`, `score: number`, `(a: string, b: integer)`. */
function llmTarget(a: Extract<PlanNode, { kind: "LlmCall" }>["args"]): string {
  if (!a.schema) return a.output!;
  const types = columnDtypes(schemaNodeOf(a.schema), a.output);
  const typed = Object.entries(types).map(([c, t]) => `${c}: ${t}`);
  return a.output !== undefined ? typed[0]! : `(${typed.join(", ")})`;
}

/** What the node does, without its id, kind or inputs. */
export function describeNode(node: PlanNode): string {
  switch (node.kind) {
    case "Source": {
      const { data, origin } = node.args;
      const n = data.rows.length;
      const c = data.columns.length;
      return `${origin}: ${n} row${n === 1 ? "" : "s"} x ${c} column${c === 1 ? "" : "s"} ${list(data.columns)}`;
    }
    case "LlmCall": {
      const a = node.args;
      const parts = [`${llmTarget(a)} = llm(${quote(a.prompt)})`];
      if (a.system !== undefined) parts.push(`system=${quote(a.system, 40)}`);
      if (a.choices) parts.push(`choices=${list(a.choices)}`);
      parts.push(`maxTokens=${a.maxTokens}`);
      if (a.stop) parts.push(`stop=${JSON.stringify(a.stop)}`);
      if (a.temperature) parts.push(`temperature=${a.temperature}`);
      if (a.seed !== undefined) parts.push(`seed=${a.seed}`);
      parts.push(`model=${a.model ?? "shipped"}`);
      return parts.join(" ");
    }
    case "SqlCall": {
      const a = node.args;
      const params = Object.entries(a.params).map(
        ([k, v]) => `$${k}=${typeof v === "string" ? quote(v, 30) : JSON.stringify(v)}`,
      );
      const parts = [`${a.output} = sql(${quote(a.query)})`];
      if (params.length) parts.push(`params ${params.join(" ")}`);
      if (a.shape !== "rows") parts.push(`shape=${a.shape}`);
      parts.push(`db=${a.dbKey}`, a.readOnly ? "read-only" : "writes");
      return parts.join(" ");
    }
    case "HttpCall": {
      const a = node.args;
      return `${a.output} = http(${a.method} ${quote(a.url)}) timeout=${a.timeoutMs}ms retries=${a.retries}`;
    }
    case "FnCall": {
      const a = node.args;
      return `${a.output} = ${a.fn.name || "fn"}(${a.inputs.join(", ")})`;
    }
    case "Map": {
      const op = node.args.op;
      if (op.type === "select") return `select ${list(op.columns)}`;
      const cols = node.args.columns ? ` -> ${list(node.args.columns)}` : "";
      return `map ${op.fn.name || "fn"}(row)${cols}`;
    }
    case "Filter": {
      const p = node.args.predicate;
      return p.type === "expr" ? formatExpr(p.expr) : `${p.fn.name || "fn"}(row) (closure)`;
    }
    case "Join": {
      const a = node.args;
      return `${a.how} on ${list(a.on)}`;
    }
    case "Sink":
      return `frame ${node.args.index}`;
    case "SinkMultiple":
      return `${node.inputs.length} frames`;
  }
}

/** Markers that matter to a reader: merges and volatility. */
export function nodeFlags(node: PlanNode): string[] {
  const flags: string[] = [];
  if (node.merged > 1) flags.push(`merged x${node.merged}`);
  if (node.volatility === "volatile") flags.push("volatile");
  if (node.volatility === "run") flags.push("no reuse across runs");
  return flags;
}
