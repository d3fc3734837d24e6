// group-shared-prefixes: a token-level prefix trie over the rendered prompt of every LLM node
// instance decides the order instances run in, so prompts sharing a prefix (system prompt,
// few-shot examples, a shared context, an earlier turn of the row's conversation) run back to
// back: the prefix is prefilled once and is still cached when its siblings need it.
//
// Sorting prompts by their token ids is a depth-first walk of that trie (siblings adjacent, a
// subtree finished before the next starts), which is what keeps an LRU cache under budget
// hitting; the longest common prefix of neighbours in that order gives the trie's size
// (unique tokens) and its groups. The Processor's LLM worker, in simulation (prefix-sim.ts: its
// radix tree, admission rounds and KV budget), predicts the cached tokens per node for row order
// and for the planned order, each node's requests reaching the worker together: explain shows both.
// Prompts that read a value only known at run time contribute their known leading part.
import { topologicalOrder, copyDag } from "../plan/dag.ts";
import type { PlanDag, PlanNode } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { annotate, costNode, type Pass, type PassResult } from "./pass.ts";
import type { PrefixGroup } from "./physical.ts";
import { PrefixSimulator, type SimRequest } from "./prefix-sim.ts";
import { encoderFor, llmColumns, renderPrompt, type RenderedPrompt } from "./render.ts";

function compareTokens(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Groups along the planned order: a new group starts where neighbours share no more than what
 * every prompt of the node shares, i.e. at the children of the trie's deepest common node.
 */
function groupsOf(order: number[], prompts: RenderedPrompt[]): PrefixGroup[] {
  if (order.length === 0) return [];
  const lcp = order.map((r, i) =>
    i === 0 ? Infinity : commonPrefix(prompts[order[i - 1]!]!.tokens, prompts[r]!.tokens),
  );
  const floor = Math.min(...lcp.slice(1), prompts[order[0]!]!.tokens.length);
  const groups: PrefixGroup[] = [];
  let current: PrefixGroup | undefined;
  order.forEach((r, i) => {
    if (!current || lcp[i]! <= floor) {
      current = { rows: [r], sharedTokens: prompts[r]!.tokens.length };
      groups.push(current);
    } else {
      current.rows.push(r);
      current.sharedTokens = Math.min(current.sharedTokens, lcp[i]!);
    }
  });
  return groups;
}

function llmNodes(dag: PlanDag): PlanNode[] {
  return topologicalOrder(dag)
    .map((id) => dag.nodes[id]!)
    .filter((n) => n.kind === "LlmCall");
}

function rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult {
  const out = copyDag(dag);
  const views = instanceViews(out);
  const planned = new PrefixSimulator(ctx.cost, ctx.llmBatch);
  const rowOrder = new PrefixSimulator(ctx.cost, ctx.llmBatch);
  let total = 0;
  let unique = 0;
  let cachedRowOrder = 0;
  let cachedPlanned = 0;
  let nodes = 0;
  for (const node of llmNodes(out)) {
    if (node.kind !== "LlmCall") continue;
    const view = views.get(node.inputs[0]!);
    if (!view) continue;
    const { encode, modelTokens } = encoderFor(ctx, node.args.modelKey);
    const columns = llmColumns(node);
    const prompts = view.rows.map((r) => renderPrompt(node.args, columns, r, encode));
    const order = prompts
      .map((_, i) => i)
      .sort((a, b) => compareTokens(prompts[a]!.tokens, prompts[b]!.tokens) || a - b);
    // A row fanned out by dedupe-calls runs once: only its first instance reaches the cache.
    // Equal prompts are neighbours in trie order, the first being the lowest row.
    const fan = node.physical?.fanOut !== undefined;
    const runs = prompts.map(() => true);
    if (fan)
      order.forEach((r, i) => {
        const prev = i === 0 ? undefined : prompts[order[i - 1]!]!;
        const p = prompts[r]!;
        if (prev?.exact && p.exact && prev.tokens.length === p.tokens.length)
          runs[r] = commonPrefix(prev.tokens, p.tokens) < p.tokens.length;
      });
    const model = node.args.modelKey;
    // What the worker needs to know to admit like the real one: how long each request decodes
    // (slots free up) and how much KV it reserves (the cost model's output estimate, maxTokens).
    const outputTokens = ctx.cost.expectedOutputTokens(costNode(node));
    const request = (r: number): SimRequest => ({
      tokens: prompts[r]!.tokens,
      complete: prompts[r]!.exact,
      outputTokens,
      maxTokens: node.args.maxTokens,
    });
    let promptTokens = 0;
    let uniqueTokens = 0;
    const plannedRuns: number[] = [];
    order.forEach((r, i) => {
      const p = prompts[r]!;
      if (!runs[r]) return;
      promptTokens += p.tokens.length;
      uniqueTokens +=
        p.tokens.length - (i === 0 ? 0 : commonPrefix(prompts[order[i - 1]!]!.tokens, p.tokens));
      plannedRuns.push(r);
    });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const hitsPlanned = sum(planned.admitTogether(model, plannedRuns.map(request)));
    const rowRuns = prompts.map((_, r) => r).filter((r) => runs[r]);
    const hitsRowOrder = sum(rowOrder.admitTogether(model, rowRuns.map(request)));
    const exact = view.exact && prompts.every((p) => p.exact);
    annotate(node, "prefix", {
      order,
      inputRows: view.rows.length,
      groups: groupsOf(order, prompts),
      promptTokens,
      uniqueTokens,
      predictedCachedTokens: hitsPlanned,
      rowOrderCachedTokens: hitsRowOrder,
      exact,
      modelTokens,
    });
    nodes++;
    total += promptTokens;
    unique += uniqueTokens;
    cachedPlanned += hitsPlanned;
    cachedRowOrder += hitsRowOrder;
  }
  return {
    dag: out,
    effect: `${nodes} LLM node(s): ${total - unique} of ${total} prompt tokens shared; predicted cached ${cachedRowOrder} in row order -> ${cachedPlanned} grouped`,
  };
}

export const groupSharedPrefixes: Pass = {
  flag: "groupSharedPrefixes",
  name: "group-shared-prefixes",
  guard: (dag) => {
    const views = instanceViews(dag);
    return llmNodes(dag).some((n) => views.has(n.inputs[0]!));
  },
  rewrite,
};
