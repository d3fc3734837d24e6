// Rendering a call's request at planning time, from the rows instances.ts knows: prompts to token
// ids (for the prefix trie) and requests to canonical keys (for deduplication). A value only known
// at run time stops the prompt at that point: everything before it is still a prefix the cache
// can share (a system prompt, few-shot examples, an earlier turn's prompt).
import { requiredColumns } from "../plan/columns.ts";
import { callKey, llmMessages } from "../executor/row-ops.ts";
import type { LlmArgs, PlanNode, Row } from "../plan/types.ts";
import type { ChatMessage } from "../runtime/types.ts";
import { approximateTokens, type OptimizerContext } from "./context.ts";
import { UNKNOWN } from "./instances.ts";

export interface RenderedPrompt {
  /** Token ids: the whole prompt when `exact`, else the known leading part. */
  tokens: number[];
  exact: boolean;
}

// Two stand-ins for an unknown value: the tokens where the two renderings first differ mark
// where run-time text begins (so BPE merges at the boundary are never counted as known).
const STAND_IN = ["\u0001", "\u0002"] as const;

function hasUnknown(row: Row, columns: string[]): boolean {
  return columns.some((c) => row[c] === UNKNOWN);
}

function withStandIn(row: Row, columns: string[], value: string): Row {
  const out: Row = { ...row };
  for (const c of columns) if (out[c] === UNKNOWN) out[c] = value;
  return out;
}

/** The tokenizer for a model: its own when loaded, else the word-level approximation. */
export function encoderFor(
  ctx: OptimizerContext,
  modelKey: string,
): { encode: (m: ChatMessage[]) => number[]; modelTokens: boolean } {
  const probe = ctx.encode(modelKey, [{ role: "user", content: "" }]);
  if (probe !== undefined)
    return { encode: (m) => ctx.encode(modelKey, m) ?? approximateTokens(m), modelTokens: true };
  return { encode: approximateTokens, modelTokens: false };
}

export function renderPrompt(
  args: LlmArgs,
  columns: string[],
  row: Row,
  encode: (m: ChatMessage[]) => number[],
): RenderedPrompt {
  if (!hasUnknown(row, columns)) return { tokens: encode(llmMessages(args, row)), exact: true };
  const a = encode(llmMessages(args, withStandIn(row, columns, STAND_IN[0])));
  const b = encode(llmMessages(args, withStandIn(row, columns, STAND_IN[1])));
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return { tokens: a.slice(0, n), exact: false };
}

/**
 * A canonical key of the request `node` makes for `row`, or undefined when it reads a value
 * only known at run time. Equal keys mean equal requests: one call serves all of them.
 */
export function requestKey(node: PlanNode, row: Row): string | undefined {
  const [reads] = requiredColumns(node.kind, node.args);
  if (reads && hasUnknown(row, reads)) return undefined;
  return callKey(node, row);
}

/** Columns an LLM node's templates read. */
export function llmColumns(node: PlanNode & { kind: "LlmCall" }): string[] {
  return requiredColumns(node.kind, node.args)[0] ?? [];
}
