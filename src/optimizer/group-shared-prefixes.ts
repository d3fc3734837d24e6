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
import { annotate, type Pass, type PassResult } from "./pass.ts";
import { outputTokensOf } from "./llm-shape.ts";
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

/**
 * The LLM nodes each LLM node waits for before its calls can start: the ones upstream of it, or,
 * when start-calls-early planned it (`physical.early`), only those its early inputs wait for.
 */
function llmWaits(dag: PlanDag): Map<number, Set<number>> {
  const waits = new Map<number, Set<number>>();
  const upstream = (id: number): Set<number> => {
    const known = waits.get(id);
    if (known) return known;
    const node = dag.nodes[id]!;
    const inputs = node.physical?.early
      ? [node.physical.early.base, ...node.physical.early.deps]
      : node.inputs;
    const out = new Set<number>();
    for (const i of inputs) {
      if (dag.nodes[i]!.kind === "LlmCall") out.add(i);
      for (const w of upstream(i)) out.add(w);
    }
    waits.set(id, out);
    return out;
  };
  for (const id of topologicalOrder(dag)) upstream(id);
  return waits;
}

/** One LLM node's rendered prompts, planned order and the requests it sends the worker. */
type LlmNode = Extract<PlanNode, { kind: "LlmCall" }>;

interface NodePrompts {
  node: LlmNode;
  order: number[];
  prompts: RenderedPrompt[];
  inputRows: number;
  exact: boolean;
  modelTokens: boolean;
  promptTokens: number;
  estimatedTokens: number;
  uniqueTokens: number;
  planned: SimRequest[];
  rowOrder: SimRequest[];
}

function promptsOf(
  node: LlmNode,
  view: NonNullable<ReturnType<ReturnType<typeof instanceViews>["get"]>>,
  ctx: OptimizerContext,
  valueTokens: Map<string, number>,
): NodePrompts {
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
  // What the worker needs to know to admit like the real one: how long each request decodes
  // (slots free up) and how much KV it reserves (the cost model's output estimate, maxTokens).
  const outputTokens = outputTokensOf(node, ctx);
  const request = (r: number): SimRequest => ({
    tokens: prompts[r]!.tokens,
    complete: prompts[r]!.exact,
    outputTokens,
    maxTokens: node.args.maxTokens,
  });
  let promptTokens = 0;
  let estimatedTokens = 0;
  let uniqueTokens = 0;
  const planned: SimRequest[] = [];
  order.forEach((r, i) => {
    const p = prompts[r]!;
    if (!runs[r]) return;
    promptTokens += p.tokens.length;
    estimatedTokens += p.exact
      ? p.tokens.length
      : (p.withStandIns ?? 0) +
        (p.unknownColumns ?? []).reduce((n, c) => n + (valueTokens.get(c) ?? 0) - 1, 0);
    uniqueTokens +=
      p.tokens.length - (i === 0 ? 0 : commonPrefix(prompts[order[i - 1]!]!.tokens, p.tokens));
    planned.push(request(r));
  });
  const rowOrder = prompts
    .map((_, r) => r)
    .filter((r) => runs[r])
    .map(request);
  return {
    node,
    order,
    prompts,
    inputRows: view.rows.length,
    exact: view.exact && prompts.every((p) => p.exact),
    modelTokens,
    promptTokens,
    estimatedTokens: Math.max(promptTokens, estimatedTokens),
    uniqueTokens,
    planned,
    rowOrder,
  };
}

/**
 * Expected tokens of each column an LLM node upstream of `node` answers into (its expected
 * answer length). A tool's result is not here: its length is unknown until it runs.
 */
function answerTokens(dag: PlanDag, node: PlanNode, ctx: OptimizerContext): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<number>();
  const visit = (id: number) => {
    if (seen.has(id)) return;
    seen.add(id);
    const n = dag.nodes[id]!;
    if (n.kind === "LlmCall" && typeof n.args.output === "string" && !out.has(n.args.output))
      out.set(n.args.output, outputTokensOf(n, ctx));
    n.inputs.forEach(visit);
  };
  node.inputs.forEach(visit);
  return out;
}

/**
 * Cached tokens per node when `nodes` (one model's, one wave) reach the worker together, each
 * node's requests after the previous node's, as the Processor's gates release them.
 */
function simulateWave(
  sim: PrefixSimulator,
  model: string,
  nodes: NodePrompts[],
  pick: (n: NodePrompts) => SimRequest[],
): number[] {
  const hits = sim.admitTogether(model, nodes.flatMap(pick));
  let at = 0;
  return nodes.map((n) => {
    const count = pick(n).length;
    const sum = hits.slice(at, at + count).reduce((a, b) => a + b, 0);
    at += count;
    return sum;
  });
}

function rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult {
  const out = copyDag(dag);
  const views = instanceViews(out);
  const planned = new PrefixSimulator(ctx.cost, ctx.processor);
  const rowOrder = new PrefixSimulator(ctx.cost, ctx.processor);
  const waits = llmWaits(out);
  // Waves: a node runs after every LLM node it waits for. Nodes of one wave reach the worker
  // together (a chain's nodes one wave each; nodes that start early beside each other share one).
  const wave = new Map<number, number>();
  const nodes: NodePrompts[] = [];
  for (const node of llmNodes(out)) {
    if (node.kind !== "LlmCall") continue;
    wave.set(node.id, Math.max(-1, ...[...waits.get(node.id)!].map((w) => wave.get(w) ?? -1)) + 1);
    const view = views.get(node.inputs[0]!);
    if (view) nodes.push(promptsOf(node, view, ctx, answerTokens(out, node, ctx)));
  }
  // One simulated queue per wave and model, waves in order, a wave's nodes in plan order.
  const queues = new Map<string, NodePrompts[]>();
  const byWave = [...nodes].sort((a, b) => wave.get(a.node.id)! - wave.get(b.node.id)!);
  for (const n of byWave) {
    const key = `${wave.get(n.node.id)}:${n.node.args.modelKey}`;
    queues.set(key, [...(queues.get(key) ?? []), n]);
  }
  let total = 0;
  let unique = 0;
  let cachedRowOrder = 0;
  let cachedPlanned = 0;
  for (const members of queues.values()) {
    const model = members[0]!.node.args.modelKey;
    const hitsPlanned = simulateWave(planned, model, members, (n) => n.planned);
    const hitsRowOrder = simulateWave(rowOrder, model, members, (n) => n.rowOrder);
    members.forEach((n, i) => {
      annotate(n.node, "prefix", {
        order: n.order,
        inputRows: n.inputRows,
        groups: groupsOf(n.order, n.prompts),
        promptTokens: n.promptTokens,
        ...(!n.exact && { estimatedTokens: n.estimatedTokens }),
        uniqueTokens: n.uniqueTokens,
        predictedCachedTokens: hitsPlanned[i]!,
        rowOrderCachedTokens: hitsRowOrder[i]!,
        exact: n.exact,
        modelTokens: n.modelTokens,
      });
      total += n.promptTokens;
      unique += n.uniqueTokens;
      cachedPlanned += hitsPlanned[i]!;
      cachedRowOrder += hitsRowOrder[i]!;
    });
  }
  return {
    dag: out,
    effect: `${nodes.length} LLM node(s): ${total - unique} of ${total} prompt tokens shared; predicted cached ${cachedRowOrder} in row order -> ${cachedPlanned} grouped`,
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
