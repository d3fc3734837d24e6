// `.agent(spec)`: an LLM call per row.
import { checkTemplateColumns, templateColumns } from "../../plan/template.ts";
import { deriveColumns } from "../../plan/columns.ts";
import { objectColumns, prepareSchema } from "../../runtime/json-schema/typed-output.ts";
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
  /**
   * The new column. May be left out with an object `schema`: each of its top-level properties
   * then becomes a column of that name.
   */
  output?: string;
  /** Constrain the answer to exactly one of these labels. */
  choices?: string[];
  /**
   * A zod 4 schema or a JSON Schema object: decoding is constrained so the answer always parses
   * and satisfies it, and the column holds the typed value (see docs/api.md, Typed outputs).
   */
  schema?: unknown;
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
  "schema",
  "maxTokens",
  "stop",
  "temperature",
  "seed",
  "model",
] as const;
export const DEFAULT_MAX_TOKENS = 64;

export function agentVerb(input: LogicalNode, spec: AgentSpec): LogicalNode {
  const where = ".agent()";
  const s = checkSpec(where, spec, OPTIONS, ["prompt"]);
  const prompt = checkString(where, "prompt", s.prompt);
  const system = optionalString(where, "system", s.system);
  checkTemplateColumns(`${where} prompt`, templateColumns(prompt), input.columns);
  if (system !== undefined)
    checkTemplateColumns(`${where} system`, templateColumns(system), input.columns);
  const args: LlmArgs = {
    prompt,
    maxTokens:
      s.maxTokens === undefined
        ? DEFAULT_MAX_TOKENS
        : checkInteger(where, "maxTokens", s.maxTokens, 1, 8192),
    modelKey: resolveModelKey(s.model as string | undefined, where),
  };
  if (system !== undefined) args.system = system;
  if (s.schema !== undefined) {
    for (const other of ["choices", "stop"] as const)
      if (s[other] !== undefined)
        throw new TypeError(
          `${where}: schema and ${other} exclude each other (a schema ends the answer itself${other === "choices" ? "; for a label use { enum: [...] }" : ""})`,
        );
    addSchema(where, args, s.schema, s.output);
  } else if (s.output === undefined)
    throw new TypeError(
      `${where}: missing required option(s) output (or give an object schema: each property becomes a column)`,
    );
  else args.output = checkOutput(where, s.output);
  if (s.choices !== undefined) args.choices = checkStringList(where, "choices", s.choices);
  if (s.stop !== undefined) args.stop = checkStringList(where, "stop", s.stop, { single: true });
  if (s.temperature !== undefined)
    args.temperature = checkNumber(where, "temperature", s.temperature, 0, 5);
  if (s.seed !== undefined) args.seed = checkInteger(where, "seed", s.seed, 0, 2 ** 31 - 1);
  if (s.model !== undefined) args.model = s.model as string;
  const label =
    s.name === undefined
      ? (args.output ?? args.columns!.join(","))
      : checkString(where, "name", s.name);
  const sampled = (args.temperature ?? 0) > 0;
  const volatility = sampled && args.seed === undefined ? "volatile" : "stable";
  const columns = deriveColumns("LlmCall", args, [input.columns]);
  return makeLogical("LlmCall", [input], args, columns, label, volatility);
}

/** Checks the schema now (every unsupported keyword fails here, not at collect) and records it. */
function addSchema(where: string, args: LlmArgs, schema: unknown, output: unknown): void {
  let prepared;
  try {
    prepared = prepareSchema(schema);
  } catch (error) {
    throw new TypeError(`${where}: ${(error as Error).message}`);
  }
  args.schema = prepared.json;
  if (output !== undefined) args.output = checkOutput(where, output);
  else {
    const columns = objectColumns(prepared.node);
    if (!columns)
      throw new TypeError(
        `${where}: missing option output: only an object schema spreads into columns; this one is a ${prepared.node.kind}, so name its column with output`,
      );
    if (columns.length === 0)
      throw new TypeError(`${where}: the object schema has no properties to make columns of`);
    for (const c of columns) checkOutput(`${where} schema property`, c);
    args.columns = columns;
  }
  // Decoding always ends on a complete value within maxTokens (token-guide.ts); one that
  // cannot even hold the shortest value is refused now.
  if (args.maxTokens < prepared.minBytes)
    throw new TypeError(
      `${where}: maxTokens ${args.maxTokens} is too small for the schema: its shortest answer is ${prepared.minBytes} bytes, which may take as many tokens; raise maxTokens to at least ${prepared.minBytes}`,
    );
}
