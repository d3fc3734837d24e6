// `.http(spec)`: an HTTP request per row.
import { checkTemplateColumns, valueTemplateColumns } from "../../plan/template.ts";
import { addColumn } from "../../plan/columns.ts";
import { makeLogical, type LogicalNode } from "../../plan/logical.ts";
import type { HttpArgs } from "../../plan/types.ts";
import {
  checkBoolean,
  checkInteger,
  checkOutput,
  checkSpec,
  checkString,
  describe,
} from "./check.ts";

export interface HttpSpec {
  name?: string;
  /** Template; placeholders after the start are percent-encoded. */
  url: string;
  /** Default GET. */
  method?: string;
  /** Header -> template. */
  headers?: Record<string, string>;
  /** A template string (sent as is) or an object whose string leaves are templates (sent as JSON). */
  body?: unknown;
  output: string;
  /** May equal results be shared and reused? Default: true for GET and HEAD. */
  deterministic?: boolean;
  /** Per attempt; default 10,000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a transient failure (network, 408, 429, 5xx); default 2. */
  retries?: number;
}

const OPTIONS = [
  "name",
  "url",
  "method",
  "headers",
  "body",
  "output",
  "deterministic",
  "timeoutMs",
  "retries",
] as const;
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

export function httpVerb(input: LogicalNode, spec: HttpSpec): LogicalNode {
  const where = ".http()";
  const s = checkSpec(where, spec, OPTIONS, ["url", "output"]);
  const url = checkString(where, "url", s.url);
  if (!/^(https?:\/\/|\{\{)/.test(url))
    throw new TypeError(
      `${where}: url must start with http:// or https:// (or a {{column}} holding one), got ${describe(url)}`,
    );
  const method =
    s.method === undefined ? "GET" : checkString(where, "method", s.method).toUpperCase();
  if (!METHODS.includes(method))
    throw new TypeError(
      `${where}: method must be one of ${METHODS.join(", ")}, got ${describe(s.method)}`,
    );
  const headers = (s.headers ?? {}) as Record<string, unknown>;
  if (
    typeof headers !== "object" ||
    headers === null ||
    Array.isArray(headers) ||
    !Object.values(headers).every((v) => typeof v === "string")
  )
    throw new TypeError(
      `${where}: headers must be an object of strings, got ${describe(s.headers)}`,
    );
  if (s.body !== undefined && (method === "GET" || method === "HEAD"))
    throw new TypeError(`${where}: a ${method} request has no body; use method: "POST"`);
  const output = checkOutput(where, s.output);
  const args: HttpArgs = {
    url,
    method,
    headers: headers as Record<string, string>,
    output,
    timeoutMs:
      s.timeoutMs === undefined
        ? 10_000
        : checkInteger(where, "timeoutMs", s.timeoutMs, 1, 3_600_000),
    retries: s.retries === undefined ? 2 : checkInteger(where, "retries", s.retries, 0, 10),
  };
  if (s.body !== undefined) args.body = s.body;
  checkTemplateColumns(where, valueTemplateColumns([url, headers, s.body ?? null]), input.columns);
  const deterministic =
    s.deterministic === undefined
      ? method === "GET" || method === "HEAD"
      : checkBoolean(where, "deterministic", s.deterministic);
  const label = s.name === undefined ? output : checkString(where, "name", s.name);
  return makeLogical(
    "HttpCall",
    [input],
    args,
    addColumn(input.columns, output),
    label,
    deterministic ? "stable" : "volatile",
  );
}
