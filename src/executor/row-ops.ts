// What each node does to one row (or, for Join, to two tables): the semantics every executor
// must reproduce. The row-by-row executor calls these directly; the Processor reuses the request
// builders and result shaping so its outputs stay identical.
import { canonicalJson } from "../plan/canonical.ts";
import { joinRightNames, writtenColumns } from "../plan/columns.ts";
import { evaluateExpr } from "../plan/expr.ts";
import {
  RenderError,
  renderParam,
  renderTemplate,
  renderValue,
  templateColumns,
} from "../plan/template.ts";
import type {
  FnArgs,
  HttpArgs,
  JoinArgs,
  LlmArgs,
  PlanNode,
  Predicate,
  Row,
  SqlArgs,
} from "../plan/types.ts";
import type { ChatMessage, GenerateRequest } from "../runtime/types.ts";
import { typedAnswer } from "../runtime/json-schema/typed-output.ts";
import type { SqlRequest } from "../tools/sql.ts";
import type { HttpRequest } from "../tools/http.ts";
import type { FunctionRequest } from "../tools/function.ts";
import { ERRORS_COLUMN } from "./types.ts";

/**
 * A canonical key of the request a call node makes for a row: equal keys, equal requests (one
 * call can serve them all when the node is not volatile). Functions are keyed by arguments only:
 * the function is the node's.
 */
export function callKey(node: PlanNode, row: Row): string | undefined {
  switch (node.kind) {
    case "LlmCall":
      return canonicalJson([
        node.args.modelKey,
        llmMessages(node.args, row),
        llmSampling(node.args),
      ]);
    case "SqlCall":
      return canonicalJson(sqlRequest(node.args, row));
    case "HttpCall":
      return canonicalJson(httpRequest(node.args, row));
    case "FnCall":
      return canonicalJson(fnRequest(node.args, row).args);
    default:
      return undefined;
  }
}

export function llmMessages(args: LlmArgs, row: Row): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (args.system !== undefined)
    messages.push({ role: "system", content: renderTemplate(args.system, row) });
  messages.push({ role: "user", content: renderTemplate(args.prompt, row) });
  return messages;
}

export function llmSampling(args: LlmArgs): GenerateRequest["sampling"] {
  const s: GenerateRequest["sampling"] = { maxTokens: args.maxTokens };
  if (args.stop) s.stop = args.stop;
  if (args.choices) s.choices = args.choices;
  if (args.schema) s.schema = args.schema;
  if (args.temperature !== undefined) s.temperature = args.temperature;
  if (args.seed !== undefined) s.seed = args.seed;
  return s;
}

export function sqlRequest(args: SqlArgs, row: Row): SqlRequest {
  const params: Record<string, unknown> = {};
  for (const [name, template] of Object.entries(args.params))
    params[name] = typeof template === "string" ? renderParam(template, row) : template;
  return { dbKey: args.dbKey, query: args.query, params, shape: args.shape };
}

/**
 * URL placeholders are percent-encoded, except one at the very start (a column holding a whole
 * URL or its base), so `?q={{kw}}` is safe for any keyword (lone surrogates were made U+FFFD by
 * formatValue, so encodeURIComponent cannot throw).
 */
export function renderUrl(template: string, row: Row): string {
  let first = true;
  return template.replace(
    /\{\{\s*([^{}]+?)\s*\}\}/g,
    (whole: string, _name: string, offset: number) => {
      const raw = offset === 0 && first;
      first = false;
      const text = renderTemplate(whole, row);
      return raw ? text : encodeURIComponent(text);
    },
  );
}

/** What fetch refuses in a header value: NUL, CR, LF (header injection) and non-Latin-1 text. */
const BAD_HEADER_CHAR = /[\0\r\n\u0100-\uffff]/;

export function httpRequest(args: HttpArgs, row: Row): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(args.headers)) {
    const value = renderTemplate(v, row);
    const bad = BAD_HEADER_CHAR.exec(value);
    if (bad)
      throw new RenderError(
        templateColumns(v).join("', '") || "?",
        `header '${k}' would carry ${describeChar(bad[0])}, which HTTP headers cannot; percent-encode the value first (encodeURIComponent in a .map()) or send it in the body`,
      );
    headers[k] = value;
  }
  return {
    url: renderUrl(args.url, row),
    method: args.method,
    headers,
    body: args.body === undefined ? undefined : renderValue(args.body, row),
    timeoutMs: args.timeoutMs,
    retries: args.retries,
  };
}

function describeChar(c: string): string {
  const code = c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
  return `the character U+${code}`;
}

export function fnRequest(args: FnArgs, row: Row): FunctionRequest {
  return { fn: args.fn, args: args.inputs.map((c) => row[c] ?? null) };
}

/**
 * An LLM call's value from its answer's text: the text itself, or with a schema the JSON value
 * (parsed and validated; a remote engine's answer that breaks the schema throws: the row's error).
 */
export function llmValue(args: LlmArgs, text: string): unknown {
  return args.schema ? typedAnswer(args.schema, text) : text;
}

/** A new row with one more column; the input row is never mutated (stored results share it). */
export function withOutput(row: Row, output: string, value: unknown): Row {
  return { ...row, [output]: value === undefined ? null : value };
}

/** A call node's value written into its row: one column, or an object schema's properties. */
export function withAnswer(row: Row, node: PlanNode, value: unknown): Row {
  if (node.kind === "LlmCall" && node.args.columns) {
    const out: Row = { ...row };
    const fields = (value ?? {}) as Record<string, unknown>;
    for (const c of node.args.columns) out[c] = fields[c] ?? null; // a property left out: null
    return out;
  }
  return withOutput(row, (node.args as { output: string }).output, value);
}

/** A call node's value as `withAnswer` wrote it into a row (the inverse, for early starts). */
export function answerOf(row: Row, node: PlanNode): unknown {
  if (node.kind === "LlmCall" && node.args.columns)
    return Object.fromEntries(node.args.columns.map((c) => [c, row[c]]));
  return row[(node.args as { output: string }).output];
}

/** A row with null in each of these columns (a call that made no call for it). */
export function withNulls(row: Row, columns: readonly string[]): Row {
  const out: Row = { ...row };
  for (const c of columns) out[c] = null;
  return out;
}

/** The columns a call node writes (none for other nodes). */
export function outputsOf(node: PlanNode): string[] {
  return writtenColumns(node.kind, node.args);
}

/** A row that failed at a node: null outputs, the error appended to `_errors`. */
export function withError(
  row: Row,
  outputs: readonly string[],
  label: string,
  error: unknown,
): Row {
  const message = error instanceof Error ? error.message : String(error);
  const previous = (row[ERRORS_COLUMN] as string[] | undefined) ?? [];
  const out: Row = { ...row, [ERRORS_COLUMN]: [...previous, `${label}: ${message}`] };
  for (const c of outputs) out[c] = null;
  return out;
}

export function hasError(row: Row): boolean {
  return Array.isArray(row[ERRORS_COLUMN]);
}

/**
 * What `_errors` says for a row a cancelled collect({ onError: "null" }) did not finish: the
 * call node it was in (or had yet to reach) gets a null output and this message.
 */
export const INTERRUPTED_MESSAGE = "interrupted before this row finished";

/** The row as a call node leaves it when the run was interrupted before its call ended. */
export function withInterrupted(row: Row, outputs: readonly string[], label: string): Row {
  // A row that failed (or was interrupted) upstream already says why: no second message.
  if (hasError(row)) return withNulls(row, outputs);
  return withError(row, outputs, label, INTERRUPTED_MESSAGE);
}

/** True for a row that an interrupt left unfinished: filters keep it, its outputs are unknown. */
export function isInterrupted(row: Row): boolean {
  const errors = row[ERRORS_COLUMN];
  return Array.isArray(errors) && errors.some((e) => String(e).endsWith(INTERRUPTED_MESSAGE));
}

/** The user's map/filter closure sees the row without Halo's bookkeeping, as a copy. */
export function userRow(row: Row): Row {
  const { [ERRORS_COLUMN]: _errors, ...rest } = row;
  return rest;
}

export function selectRow(row: Row, columns: string[]): Row {
  const out: Row = {};
  for (const c of columns) out[c] = row[c] ?? null;
  if (hasError(row)) out[ERRORS_COLUMN] = row[ERRORS_COLUMN];
  return out;
}

export function checkMapResult(result: unknown, label: string): Row {
  if (!result || typeof result !== "object" || Array.isArray(result))
    throw new TypeError(
      `map ${label}: the function must return a row object, got ${Array.isArray(result) ? "an array" : typeof result}`,
    );
  return result as Row;
}

export function testPredicate(predicate: Predicate, row: Row): Promise<unknown> | unknown {
  return predicate.type === "expr" ? evaluateExpr(predicate.expr, row) : predicate.fn(userRow(row));
}

/** Null keys never match (as in SQL). */
function joinKey(row: Row, on: string[]): string | null {
  const values = on.map((c) => row[c] ?? null);
  return values.some((v) => v === null) ? null : JSON.stringify(values);
}

/** Hash join: left order kept, right matches in right order. */
export function joinRows(
  left: { columns: string[] | null; rows: Row[] },
  right: { columns: string[] | null; rows: Row[] },
  args: JoinArgs,
): Row[] {
  const leftCols = left.columns ?? Object.keys(left.rows[0] ?? {});
  const rightCols =
    right.columns ?? Object.keys(right.rows[0] ?? {}).filter((c) => c !== ERRORS_COLUMN);
  const names = joinRightNames(leftCols, rightCols, args.on, args.suffix);
  const index = new Map<string, Row[]>();
  for (const r of right.rows) {
    const k = joinKey(r, args.on);
    if (k === null) continue;
    const list = index.get(k);
    if (list) list.push(r);
    else index.set(k, [r]);
  }
  const out: Row[] = [];
  for (const l of left.rows) {
    const k = joinKey(l, args.on);
    const matches = k === null ? undefined : index.get(k);
    if (!matches) {
      if (args.how === "left") {
        const row: Row = { ...l };
        for (const [, name] of names) row[name] = null;
        out.push(row);
      }
      continue;
    }
    for (const r of matches) {
      const row: Row = { ...l };
      for (const [src, name] of names) row[name] = r[src] ?? null;
      const errors = [
        ...((l[ERRORS_COLUMN] as string[] | undefined) ?? []),
        ...((r[ERRORS_COLUMN] as string[] | undefined) ?? []),
      ];
      if (errors.length) row[ERRORS_COLUMN] = errors;
      out.push(row);
    }
  }
  return out;
}
