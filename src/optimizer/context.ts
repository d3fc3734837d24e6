// What the passes know beyond the plan: the cost model they ask for every decision, how to turn
// a prompt into the model's token ids, and which LLM workers exist. The optimizer seam is
// synchronous (explain() plans without awaiting), so tokenizers come from models loaded ahead by
// `prepareOptimizer`; a model not loaded yet is tokenized approximately (words, see below).
import { CostModel } from "../cost/cost-model.ts";
import { priorProfile } from "../cost/profile.ts";
import type { LlmModel } from "../executor/types.ts";
import type { PlanDag } from "../plan/types.ts";
import type { ChatMessage } from "../runtime/types.ts";
import type { BatchSizerOptions } from "../processor/llm/batch-sizer.ts";
import type { WorkerSpec } from "./physical.ts";

export type ToolLane = "sql" | "http" | "function";

export interface OptimizerContext {
  cost: CostModel;
  /** The model's token ids for a chat (template applied), or undefined when not loaded. */
  encode(modelKey: string, messages: ChatMessage[]): number[] | undefined;
  /** LLM workers; default: one per model the plan uses (the Processor's one submitter per model). */
  workers?: WorkerSpec[];
  /** Calls each tool pool runs at once (the Processor's ToolPool limits). */
  toolConcurrency: Record<ToolLane, number>;
  /**
   * The Processor's LLM batch sizing, when a caller set it (PipelineOptions.llm.batch): the
   * cache simulator admits with the same limits. Default: the BatchSizer's defaults.
   */
  llmBatch?: BatchSizerOptions;
  /** The schedule's DP gives up for the greedy rule after visiting this many states. */
  dpStateBudget: number;
}

/** Models loaded for tokenizing, by model key (filled by prepareOptimizer). */
const loaded = new Map<string, LlmModel>();

/** The session's optimizer context; tests and the Processor may replace its fields. */
export const optimizerSession: OptimizerContext = {
  // Before calibration the prior profile (measured ranges from the runtime notes) plans; whoever
  // calibrates replaces it with `optimizerSession.cost = new CostModel(profile)`.
  cost: new CostModel(priorProfile("shipped")),
  encode(modelKey, messages) {
    return loaded.get(modelKey)?.encodeChat(messages);
  },
  // The Processor's ToolPool defaults (tool-pool.ts): HTTP waits on the network, so many at once;
  // SQL and functions use this machine's 2 cores.
  toolConcurrency: { sql: 2, http: 16, function: 2 },
  // A bound on planner time, not a cost: the two-frame test plans in tens of states; a wide graph
  // that would need more gets the greedy rule (docs/optimizer.md).
  dpStateBudget: 30_000,
};

/**
 * Loads the models an LLM node names so the passes can tokenize exactly (collect() calls this
 * before optimizing; the executor would load them anyway, and loads are cached by key). A model
 * that fails to load is skipped: the executor reports the error where it belongs.
 */
export async function prepareOptimizer(
  dag: PlanDag,
  loadModel: (modelKey: string) => Promise<LlmModel>,
): Promise<void> {
  const keys = new Set<string>();
  for (const n of dag.nodes) if (n.kind === "LlmCall") keys.add(n.args.modelKey);
  await Promise.all(
    [...keys].map(async (key) => {
      if (loaded.has(key)) return;
      try {
        loaded.set(key, await loadModel(key));
      } catch {
        // left to the executor
      }
    }),
  );
}

/** Forgets loaded tokenizers (a model re-registered under the same name). */
export function forgetModels(): void {
  loaded.clear();
}

/**
 * Stand-in token ids when the model is not loaded: one id per word with its leading space, which
 * is about how byte-level BPE splits English (a word is 1-2 tokens). Good enough to find shared
 * prefixes and their relative sizes; `PrefixPlan.modelTokens` says which kind was used.
 */
export function approximateTokens(messages: ChatMessage[]): number[] {
  const out: number[] = [];
  for (const m of messages) {
    out.push(wordId(`<|${m.role}|>`));
    for (const w of m.content.match(/\s*\S+|\s+/g) ?? []) out.push(wordId(w));
    out.push(wordId("<|end|>"));
  }
  return out;
}

const ids = new Map<string, number>();
function wordId(word: string): number {
  let id = ids.get(word);
  if (id === undefined) {
    // Bounded: a long session of distinct words must not grow this without limit.
    if (ids.size > 1_000_000) ids.clear();
    id = ids.size + 1;
    ids.set(word, id);
  }
  return id;
}
