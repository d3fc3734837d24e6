// Each LLM node's own share of its worker's forward time. A node's span (first row's start to
// last row's end) is no measure of what it cost when nodes share a worker: in a pipelined plan
// the span also holds other nodes' batches, and the cost model's estimate of a node (its own
// prefill and decode work) was off by a median of 88-99% against it (docs/cost-model.md). So
// every LLM task records the tokens each plan node computed in it, and each task's measured time
// is split among nodes by those tokens: the work a node caused, in the units the estimate uses.
import type { TaskRecord } from "./trace.ts";

/** Whatever carries the plan nodes one request serves (a worker's Sequence). */
export interface NodeTagged {
  readonly nodeIds: readonly number[];
}

/**
 * Tokens each plan node computed in one forward call: `tokensOf(i)` for member `i` of the batch
 * (new prompt tokens in a prefill, 1 in a decode step), split evenly over the nodes a request
 * serves (a request deduplicated across nodes serves several). Ids sorted, tokens aligned.
 */
export function tokensByNode<T extends NodeTagged>(
  batch: readonly T[],
  tokensOf: (member: T) => number,
): { nodeIds: number[]; nodeTokens: number[] } {
  const byNode = new Map<number, number>();
  for (const member of batch) {
    const ids = member.nodeIds;
    if (ids.length === 0) continue;
    const each = tokensOf(member) / ids.length;
    for (const id of ids) byNode.set(id, (byNode.get(id) ?? 0) + each);
  }
  const nodeIds = [...byNode.keys()].sort((a, b) => a - b);
  return { nodeIds, nodeTokens: nodeIds.map((id) => byNode.get(id)!) };
}

/**
 * Milliseconds of LLM lane time per plan node: each task's duration (the run's part of it, when
 * the call also served other runs) split by `nodeTokens`, or evenly over its `nodeIds` when it
 * has none (a whole `generate()` call of the GenerateBatcher, which cannot say which request
 * computed what). Tool lanes are not counted.
 */
export function llmMsByNode(tasks: readonly TaskRecord[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const task of tasks) {
    if (!task.lane.startsWith("llm") || task.nodeIds.length === 0) continue;
    if (task.kind === "model-load") continue; // waiting for the model, not model work
    // In a call shared with other runs, this run's nodes own their tokens' part of it.
    const own = task.nodeTokens?.reduce((a, b) => a + b, 0) ?? 0;
    const others = task.sharedWith?.tokens ?? 0;
    const part = own > 0 ? own / (own + others) : 1;
    const ms = (task.endMs - task.startMs) * part;
    const weights = task.nodeTokens ?? task.nodeIds.map(() => 1);
    const total = weights.reduce((a, b) => a + b, 0);
    task.nodeIds.forEach((id, i) => {
      const share = total > 0 ? weights[i]! / total : 1 / task.nodeIds.length;
      out.set(id, (out.get(id) ?? 0) + ms * share);
    });
  }
  return out;
}
