// `.agent(spec)`: an LLM call per row.
import { checkTemplateColumns, templateColumns } from "../../plan/template.ts";
import { addColumn } from "../../plan/columns.ts";
import { makeLogical, type LogicalNode } from "../../plan/logical.ts";
import type { LlmArgs } from "../../plan/types.ts";
import { resolveModelKey } from "../models.ts";
import {
  checkInteger,
  checkNumber,
  checkOutput,
  checkSpec,
  checkString,
  checkStringList,
  optionalString,
} from "./check.ts";

export interface AgentSpec {
  /** Label in explain and traces (default: the output column). */
  name?: string;
  /** User message template with `{{column}}` placeholders. */
  prompt: string;
  /** System message template. */
  system?: string;
  /** The new column. */
  output: string;
  /** Constrain the answer to exactly one of these labels. */
  choices?: string[];
  /** Default 64. */
  maxTokens?: number;
  stop?: string | string[];
  /** 0 (default) is greedy. Above 0 samples; without `seed` the node is never merged or reused. */
  temperature?: number;
  seed?: number;
  /** A registered name (`halo.models.register`) or a model folder; default: the shipped model. */
  model?: string;
}

const OPTIONS = [
  "name",
  "prompt",
  "system",
  "output",
  "choices",
  "maxTokens",
  "stop",
  "temperature",
  "seed",
  "model",
] as const;
export const DEFAULT_MAX_TOKENS = 64;

export function agentVerb(input: LogicalNode, spec: AgentSpec): LogicalNode {
  const where = ".agent()";
  const s = checkSpec(where, spec, OPTIONS, ["prompt", "output"]);
  const prompt = checkString(where, "prompt", s.prompt);
  const system = optionalString(where, "system", s.system);
  const output = checkOutput(where, s.output);
  checkTemplateColumns(`${where} prompt`, templateColumns(prompt), input.columns);
  if (system !== undefined)
    checkTemplateColumns(`${where} system`, templateColumns(system), input.columns);
  const args: LlmArgs = {
    prompt,
    output,
    maxTokens:
      s.maxTokens === undefined
        ? DEFAULT_MAX_TOKENS
        : checkInteger(where, "maxTokens", s.maxTokens, 1, 8192),
    modelKey: resolveModelKey(s.model as string | undefined, where),
  };
  if (system !== undefined) args.system = system;
  if (s.choices !== undefined) args.choices = checkStringList(where, "choices", s.choices);
  if (s.stop !== undefined) args.stop = checkStringList(where, "stop", s.stop, { single: true });
  if (s.temperature !== undefined)
    args.temperature = checkNumber(where, "temperature", s.temperature, 0, 5);
  if (s.seed !== undefined) args.seed = checkInteger(where, "seed", s.seed, 0, 2 ** 31 - 1);
  if (s.model !== undefined) args.model = s.model as string;
  const label = s.name === undefined ? output : checkString(where, "name", s.name);
  const sampled = (args.temperature ?? 0) > 0;
  const volatility = sampled && args.seed === undefined ? "volatile" : "stable";
  return makeLogical("LlmCall", [input], args, addColumn(input.columns, output), label, volatility);
}
