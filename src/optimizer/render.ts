// Rendering a call's request at planning time, from the rows instances.ts knows: prompts to token
// ids (for the prefix trie) and requests to canonical keys (for deduplication). A value only known
// at run time stops the prompt at that point: everything before it is still a prefix the cache
// can share (a system prompt, few-shot examples, an earlier turn's prompt). A row whose value
// cannot be rendered (src/plan/template.ts) is planned as unknown: it fails in its own row's
// boundary when it runs, never the plan, nor explain().
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
  /**
   * Not exact: the prompt's tokens with one stand-in token per value known only at run time
   * (the template after it included), and the columns of those values: an estimate of the
   * whole prompt adds their expected lengths (group-shared-prefixes).
   */
  withStandIns?: number;
  unknownColumns?: string[];
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

// Tokenized prompts per optimizer context (the driver makes one per plan), by model and messages.
// Tokenizing is most of the planner's time at scale (2,048 queries of tpch-trident: 6.9 s of 7.6 s
// in group-shared-prefixes, nearly all in the tokenizer), and prompts repeat: rows asking the
// same (the repeat rate), and every row of a node whose varying text is only known at run time
// renders the same stand-in prompt. Two passes (group-shared-prefixes, place-work) render them.
// Bounded: a plan with more distinct prompts than this re-tokenizes beyond it.
const MEMO_LIMIT = 200_000;
const memos = new WeakMap<OptimizerContext, Map<string, number[]>>();

/** The tokenizer for a model: its own when loaded, else the word-level approximation. */
export function encoderFor(
  ctx: OptimizerContext,
  modelKey: string,
): { encode: (m: ChatMessage[]) => number[]; modelTokens: boolean } {
  const probe = ctx.encode(modelKey, [{ role: "user", content: "" }]);
  if (probe === undefined) return { encode: approximateTokens, modelTokens: false };
  let memo = memos.get(ctx);
  if (!memo) memos.set(ctx, (memo = new Map()));
  const cache = memo;
  return {
    encode: (m) => {
      const key = `${modelKey}\u0000${m.map((x) => `${x.role}\u0001${x.content}`).join("\u0000")}`;
      let tokens = cache.get(key);
      if (!tokens) {
        tokens = ctx.encode(modelKey, m) ?? approximateTokens(m);
        if (cache.size < MEMO_LIMIT) cache.set(key, tokens);
      }
      return tokens;
    },
    modelTokens: true,
  };
}

export function renderPrompt(
  args: LlmArgs,
  columns: string[],
  row: Row,
  encode: (m: ChatMessage[]) => number[],
): RenderedPrompt {
  try {
    return renderKnownPrompt(args, columns, row, encode);
  } catch {
    return { tokens: [], exact: false, withStandIns: 0, unknownColumns: [] };
  }
}

function renderKnownPrompt(
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
  const unknownColumns = columns.filter((c) => row[c] === UNKNOWN);
  return { tokens: a.slice(0, n), exact: false, withStandIns: a.length, unknownColumns };
}

/**
 * A canonical key of the request `node` makes for `row`, or undefined when it reads a value
 * only known at run time or one that cannot be rendered. Equal keys mean equal requests: one
 * call serves all of them.
 */
export function requestKey(node: PlanNode, row: Row): string | undefined {
  const [reads] = requiredColumns(node.kind, node.args);
  if (reads && hasUnknown(row, reads)) return undefined;
  try {
    return callKey(node, row);
  } catch {
    return undefined;
  }
}

/** Columns an LLM node's templates read. */
export function llmColumns(node: PlanNode & { kind: "LlmCall" }): string[] {
  return requiredColumns(node.kind, node.args)[0] ?? [];
}
