// What the cost model needs to know about an LLM node's work, read from the plan's annotations
// (dedupe-calls, group-shared-prefixes) with the cost model's own defaults where they are absent.
import type { CostModel, EstimateState } from "../cost/cost-model.ts";
import type { LlmArgs, PlanNode } from "../plan/types.ts";
import type { ChatMessage } from "../runtime/types.ts";
import { approximateTokens, type OptimizerContext } from "./context.ts";
import { costNode } from "./pass.ts";
import type { InstanceView } from "./instances.ts";

export interface LlmShape {
  /** Calls that run (after fan-out). */
  calls: number;
  /** Rows the node serves. */
  rows: number;
  /** Mean prompt tokens per call (the known part when prompts read run-time values). */
  promptTokens: number;
  /** Mean cached tokens per call (group-shared-prefixes' prediction). */
  cachedTokens: number;
  /** Longest prefix one group shares (held in the KV cache while the group runs). */
  sharedTokens: number;
}

/**
 * Calls a call node makes for `rows` rows: dedupe-calls' distinct count when planning knew it;
 * when only the run can tell (requests read run-time values), the share of rows that made a
 * call when the node last ran; else one per row.
 */
export function callsAt(node: PlanNode, rows: number, cost?: CostModel): number {
  const fan = node.physical?.fanOut;
  if (!fan) return rows;
  if (fan.distinct !== null) return fan.distinct;
  const share = cost?.measuredCallShare(node.signature);
  return share === undefined ? rows : Math.min(rows, Math.max(1, Math.round(rows * share)));
}

/** Rows at a node: known rows, else the nearest known upstream count (an upper bound), else 1. */
export function rowsAt(view: InstanceView | undefined): number {
  return view ? view.rows.length : 1;
}

export function llmShape(node: PlanNode, rows: number, cost?: CostModel): LlmShape {
  const calls = callsAt(node, rows, cost);
  const p = node.physical?.prefix;
  if (!p || calls === 0 || node.kind !== "LlmCall") {
    // Not rendered: the templates' own length in approximate tokens.
    const a = node.args as LlmArgs;
    const messages: ChatMessage[] = [{ role: "user", content: a.prompt ?? "" }];
    if (a.system !== undefined) messages.unshift({ role: "system", content: a.system });
    return {
      calls,
      rows,
      promptTokens:
        cost?.measuredPromptTokens(node.signature) ?? approximateTokens(messages).length,
      cachedTokens: 0,
      sharedTokens: 0,
    };
  }
  // Prompts that read run-time values (tool results, upstream answers) are known only up to
  // the first such value: the estimate fills them in (answers at their expected length, tool
  // results at zero) until the node has run; then its measured length per call stands in.
  const measured = p.exact ? undefined : cost?.measuredPromptTokens(node.signature);
  return {
    calls,
    rows,
    promptTokens: Math.max(
      p.promptTokens / calls,
      measured ?? (p.estimatedTokens ?? p.promptTokens) / calls,
    ),
    cachedTokens: p.predictedCachedTokens / calls,
    sharedTokens: Math.max(0, ...p.groups.map((g) => g.sharedTokens)),
  };
}

/** Tokens an answer of the node is expected to generate (labels counted by its tokenizer). */
export function outputTokensOf(node: PlanNode, ctx: OptimizerContext): number {
  const model = (node.args as LlmArgs).modelKey;
  return ctx.cost.expectedOutputTokens(costNode(node), (text) => ctx.countTokens(model, text));
}

/**
 * The most calls of the node whose KV (prompt and answer each) fits one worker's budget: the
 * Processor config's, the budget the worker enforces.
 */
export function kvBoundBatch(node: PlanNode, shape: LlmShape, ctx: OptimizerContext): number {
  const model = (node.args as LlmArgs).modelKey;
  const output = outputTokensOf(node, ctx);
  const perCall = ctx.cost.kvBytes(Math.max(1, shape.promptTokens + output), model);
  return Math.max(1, Math.floor(ctx.processor.kv.budgetBytes / perCall));
}

/**
 * The estimate state of an LLM node after the passes that ran: its calls in batches of
 * `batchSize`, by default as many as the KV budget holds (what the worker's admission allows).
 */
export function llmState(
  node: PlanNode,
  shape: LlmShape,
  ctx: OptimizerContext,
  batchSize = kvBoundBatch(node, shape, ctx),
): EstimateState {
  return {
    calls: shape.calls,
    promptTokens: shape.promptTokens,
    cachedTokens: shape.cachedTokens,
    outputTokens: outputTokensOf(node, ctx),
    batchSize,
  };
}
