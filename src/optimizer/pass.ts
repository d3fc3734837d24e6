// The shape of an optimizer pass: a guard ("can this apply?") and a rewrite (plan in, plan out),
// both pure: a pass copies what it changes (copyDag) and leaves its input untouched. What one pass
// learns that a later one needs travels as annotations on the plan (physical.ts), never as
// hidden state, so each pass can be switched off alone.
import type { CostNode } from "../cost/cost-model.ts";
import type { OptimizationFlags } from "../plan/optimize.ts";
import type { PlanDag, PlanNode } from "../plan/types.ts";
import type { OptimizerContext } from "./context.ts";
import type { NodePhysical } from "./physical.ts";

export interface PassResult {
  dag: PlanDag;
  /** One line for explain: what changed ("2 filters moved before 3 calls, 180 calls saved"). */
  effect: string;
}

export interface Pass {
  /** The flag that switches it (OptimizationFlags). */
  flag: keyof OptimizationFlags;
  /** File and explain name, kebab-case. */
  name: string;
  guard(dag: PlanDag, ctx: OptimizerContext): boolean;
  rewrite(dag: PlanDag, ctx: OptimizerContext): PassResult;
}

/** Sets `node.physical[key]` on a node of a dag the pass owns (after copyDag). */
export function annotate<K extends keyof NodePhysical>(
  node: PlanNode,
  key: K,
  value: NodePhysical[K],
): void {
  node.physical = { ...node.physical, [key]: value };
}

/**
 * A plan node as the cost model's `CostNode` (it reads kind, signature and a few args). The cast
 * only bridges main's narrower CostNode.args; the cost branch widens it to `object`.
 */
export function costNode(node: PlanNode): CostNode {
  return node as unknown as CostNode;
}
