// What the plan knows of its columns' types: an LLM call writes text ("string"), or with a schema
// the schema's types (an object schema's properties each typed). Other columns are untyped here
// (the data decides). collect() hands these to the result's dtypes; explain and halo.lastRun show
// them.
import { columnDtypes, schemaNodeOf } from "../runtime/json-schema/typed-output.ts";
import { joinRightNames, writtenColumns } from "./columns.ts";
import type { PlanDag } from "./types.ts";

export type ColumnTypes = Record<string, string>;

/** Known column types at node `id` (columns left out are untyped). */
export function columnTypes(
  dag: PlanDag,
  id: number,
  memo = new Map<number, ColumnTypes>(),
): ColumnTypes {
  const known = memo.get(id);
  if (known) return known;
  const node = dag.nodes[id]!;
  const input = () => columnTypes(dag, node.inputs[0]!, memo);
  let types: ColumnTypes;
  switch (node.kind) {
    case "Source":
    case "SinkMultiple":
      types = {};
      break;
    case "LlmCall": {
      const a = node.args;
      const own = a.schema
        ? columnDtypes(schemaNodeOf(a.schema), a.output)
        : { [a.output!]: "string" };
      types = { ...input(), ...own };
      break;
    }
    case "SqlCall":
    case "HttpCall":
    case "FnCall": {
      types = { ...input() };
      for (const c of writtenColumns(node.kind, node.args)) delete types[c];
      break;
    }
    case "Map": {
      const op = node.args.op;
      const from = input();
      types =
        op.type === "select"
          ? Object.fromEntries(op.columns.filter((c) => c in from).map((c) => [c, from[c]!]))
          : {};
      break;
    }
    case "Filter":
    case "Sink":
      types = input();
      break;
    case "Join": {
      const [l, r] = node.inputs.map((i) => dag.nodes[i]!);
      const left = columnTypes(dag, l!.id, memo);
      const right = columnTypes(dag, r!.id, memo);
      types = { ...left };
      if (l!.columns && r!.columns)
        for (const [src, name] of joinRightNames(
          l!.columns,
          r!.columns,
          node.args.on,
          node.args.suffix,
        ))
          if (src in right) types[name] = right[src]!;
          else delete types[name];
      break;
    }
  }
  memo.set(id, types);
  return types;
}
