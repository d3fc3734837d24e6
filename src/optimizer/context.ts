// What the passes know beyond the plan: the cost model they ask for every decision, how to turn
// a prompt into the model's token ids, the LLM workers, and the Processor's settings (KV budget,
// batch limits, admission rule, tool limits) the plan will run under. The context is derived from
// the session's Processor (`optimizerContext`): the same config object its workers and tool pool
// read, so a simulated cache holds what the real one holds, by construction. The optimizer is
// synchronous (explain() plans without awaiting), so tokenizers come from models loaded ahead by
// `prepareOptimizer`; a model not loaded yet is tokenized approximately (words, see below).
import type { CostModel } from "../cost/cost-model.ts";
import type { LlmModel } from "../executor/types.ts";
import type { ModelPrice } from "../cost/price.ts";
import type { PlanDag } from "../plan/types.ts";
import type { ProcessorConfig } from "../processor/config.ts";
import type { ChatMessage } from "../runtime/types.ts";
import type { WorkerSpec } from "./physical.ts";
import { workersPerModel } from "./place-work.ts";

export type ToolLane = "sql" | "http" | "function";

export interface OptimizerContext {
  cost: CostModel;
  /** The model's token ids for a chat (template applied), or undefined when not loaded. */
  encode(modelKey: string, messages: ChatMessage[]): number[] | undefined;
  /** Tokens of a plain text (a label) by the model's tokenizer, or undefined without one. */
  countTokens(modelKey: string, text: string): number | undefined;
  /** The price the user gave the model (remote models), for the estimate's dollars. */
  priceOf(modelKey: string): ModelPrice | undefined;
  /**
   * True when the session keeps the table of the node with this signature (an earlier collect's):
   * the run reuses it, so it and all only it needs cost nothing (the executors' reuse walk).
   */
  kept?(signature: string): boolean;
  /**
   * The key a model key's weights go by: keys that load the same model (one folder registered
   * under several names) share one, so they share workers and never pay a model switch between
   * them. Absent: every key is its own model.
   */
  modelOf?(modelKey: string): string;
  /** LLM workers: `processor.llm.workersPerModel` per model the plan uses, by default. */
  workers?: WorkerSpec[];
  /** The Processor's settings for this run: what its workers and tool pool will enforce. */
  processor: ProcessorConfig;
  /** The schedule's DP gives up for the greedy rule after visiting this many states. */
  dpStateBudget: number;
}

/**
 * A bound on planner time, not a cost: the two-frame test plans in tens of states; a wide graph
 * that would need more gets the greedy rule (docs/optimizer.md).
 */
export const DP_STATE_BUDGET = 30_000;

/** Models loaded for tokenizing, by model key (filled by prepareOptimizer). */
const loaded = new Map<string, LlmModel>();

function encode(modelKey: string, messages: ChatMessage[]): number[] | undefined {
  return loaded.get(modelKey)?.encodeChat(messages);
}

function countTokens(modelKey: string, text: string): number | undefined {
  return loaded.get(modelKey)?.tokenizer?.encode(text, false).length;
}

function priceOf(modelKey: string): ModelPrice | undefined {
  return loaded.get(modelKey)?.price;
}

/**
 * The first key loaded as the same model object as `modelKey` (the runtime loads one model per
 * folder and dtype, whatever it is called), or `modelKey` itself when it is not loaded.
 */
export function modelOf(modelKey: string): string {
  const model = loaded.get(modelKey);
  if (model) for (const [key, m] of loaded) if (m === model) return key;
  return modelKey;
}

/**
 * The context a plan is made in: the Processor's cost model and its settings for the run (the
 * session's, with the run's overrides), one worker per lane it will run, and the session's kept
 * node tables (`kept`, absent when the run reuses nothing).
 */
export function optimizerContext(
  cost: CostModel,
  config: ProcessorConfig,
  dag: PlanDag,
  kept?: (signature: string) => boolean,
): OptimizerContext {
  return {
    cost,
    encode,
    countTokens,
    priceOf,
    modelOf,
    ...(kept && { kept }),
    processor: config,
    workers: workersPerModel(dag, config.llm.workersPerModel, modelOf),
    dpStateBudget: DP_STATE_BUDGET,
  };
}

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

/** Forgets the tokenizer of a model key (the name was registered again, or unregistered). */
export function forgetTokenizer(modelKey: string): void {
  loaded.delete(modelKey);
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
