// Runs one tool node for one row: SQL with bound parameters on DuckDB, HTTP against the tool
// server, or a named function. Shared by the tool check and by baselines that execute tools
// themselves, so a tool's output value is the same whichever system asks.
import { renderTemplate } from "../workloads/templates.ts";
import { FUNCTIONS } from "../workloads/functions.ts";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { FunctionNode, HttpNode, SqlNode } from "../workloads/types.ts";

export type ToolNode = SqlNode | HttpNode | FunctionNode;

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v !== null && typeof v === "object" && !Array.isArray(v)) return String(v);
  return v;
}

export async function runSql(
  db: DuckDBConnection,
  node: SqlNode,
  row: Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const params: Record<string, string> = {};
  for (const [name, template] of Object.entries(node.params))
    params[name] = renderTemplate(template, row);
  const reader = await db.runAndReadAll(node.query, params);
  const names = reader.columnNames();
  return reader.getRows().map((r) => Object.fromEntries(r.map((v, i) => [names[i]!, plain(v)])));
}

export function httpUrl(baseUrl: string, node: HttpNode, row: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [name, template] of Object.entries(node.query))
    query.set(name, renderTemplate(template, row));
  return `${baseUrl}${node.route}?${query.toString()}`;
}

export async function runHttp(
  baseUrl: string,
  node: HttpNode,
  row: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<unknown> {
  const url = httpUrl(baseUrl, node, row);
  const res = await fetch(url, { signal });
  const text = await res.text();
  if (!res.ok) throw new Error(`${node.id}: GET ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

export function runFunction(node: FunctionNode, row: Record<string, unknown>): unknown {
  const fn = FUNCTIONS[node.fn];
  if (!fn) throw new Error(`${node.id}: unknown function '${node.fn}'`);
  return (fn as (...a: unknown[]) => unknown)(...node.inputs.map((c) => row[c]));
}

export async function runTool(
  node: ToolNode,
  row: Record<string, unknown>,
  ctx: { db: DuckDBConnection; toolServerUrl: string; signal?: AbortSignal },
): Promise<unknown> {
  switch (node.type) {
    case "sql":
      return runSql(ctx.db, node, row);
    case "http":
      return runHttp(ctx.toolServerUrl, node, row, ctx.signal);
    case "function":
      return runFunction(node, row);
  }
}
