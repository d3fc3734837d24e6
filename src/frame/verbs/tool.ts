// `.tool(fn, spec)`: a local JS function (sync or async) per row.
import { addColumn } from "../../plan/columns.ts";
import { functionKey } from "../../plan/canonical.ts";
import { makeLogical, type LogicalNode } from "../../plan/logical.ts";
import type { ToolFn } from "../../plan/types.ts";
import {
  checkBoolean,
  checkColumnsExist,
  checkFunction,
  checkOutput,
  checkSpec,
  checkString,
  checkStringList,
} from "./check.ts";

export interface ToolSpec {
  name?: string;
  /** Columns passed to the function as positional arguments. */
  inputs: string | string[];
  output: string;
  /** May equal calls share a result, also across collects? Default true. */
  deterministic?: boolean;
  /**
   * Identity for signatures. Default: the function's name and source text, which cannot see
   * values it captures; set a key (e.g. "lookup@v2") when those change.
   */
  key?: string;
}

const OPTIONS = ["name", "inputs", "output", "deterministic", "key"] as const;

export function toolVerb(input: LogicalNode, fn: ToolFn, spec: ToolSpec): LogicalNode {
  const where = ".tool(fn, spec)";
  checkFunction(where, "fn", fn);
  const s = checkSpec(where, spec, OPTIONS, ["inputs", "output"]);
  const inputs = checkStringList(where, "inputs", s.inputs, { single: true });
  checkColumnsExist(`${where} inputs`, inputs, input.columns);
  const output = checkOutput(where, s.output);
  const deterministic =
    s.deterministic === undefined ? true : checkBoolean(where, "deterministic", s.deterministic);
  const fnKey = s.key === undefined ? functionKey(fn) : `key:${checkString(where, "key", s.key)}`;
  const label = s.name === undefined ? output : checkString(where, "name", s.name);
  return makeLogical(
    "FnCall",
    [input],
    { fn, inputs, output, fnKey },
    addColumn(input.columns, output),
    label,
    deterministic ? "stable" : "volatile",
  );
}
