// `halo.workflow(yamlOrPath)`: a workflow graph written in YAML, compiled onto the same verbs
// (and so the same PlanDag) as chained calls. Nodes run in a topological order of the edges;
// every node adds its output column to the row, so fan-out (two nodes after one) and fan-in
// (one node after two) need no special handling. Edges may be implicit (a node reading another's
// output depends on it). An edge's `map` renames what the target's
// templates read; a back edge with `loop: N` repeats the loop body N more times (unrolled:
// a plan is a DAG, so loops are bounded). An llm node's `schema:` is a JSON Schema (typed
// output); without `output`, an object schema's properties are its columns.
import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { valueTemplateColumns } from "../plan/template.ts";
import { objectColumns, prepareSchema } from "../runtime/json-schema/typed-output.ts";
import type { ToolFn } from "../plan/types.ts";
import type { SqlDatabase } from "../tools/types.ts";
import { LazyFrame } from "./lazy-frame.ts";
import { checkColumnsExist, describe } from "./verbs/check.ts";

export interface WorkflowOptions {
  /** Functions that `type: function` nodes name in their `function` field. */
  functions?: Record<string, ToolFn | ((...args: never[]) => unknown)>;
  /** Databases that `type: sql` nodes name in their `db` field. */
  databases?: Record<string, SqlDatabase>;
  /** Where `type: sql` nodes without `db` run (default: halo.db; `halo serve`: its sandbox). */
  defaultDatabase?: SqlDatabase;
}

interface NodeSpec {
  id: string;
  type: "input" | "llm" | "sql" | "http" | "function";
  [key: string]: unknown;
}

interface EdgeSpec {
  from: string;
  to: string;
  /** Column written upstream -> the name the target's templates use. */
  map?: Record<string, string>;
  /** On a back edge: how many more times the loop body runs. */
  loop?: number;
}

export interface Workflow {
  readonly name: string;
  /** Node ids in the order they run, loops unrolled (`id#2` is a second pass). */
  readonly steps: string[];
  /** Applies the workflow to a frame (or anything halo.lazy accepts). */
  run(input: unknown): LazyFrame;
}

const TYPES = ["input", "llm", "sql", "http", "function"];

function fail(name: string, message: string): never {
  throw new Error(`workflow '${name}': ${message}`);
}

/** The columns a node writes: its output, or the properties of an llm node's object schema. */
function writes(node: NodeSpec): string[] {
  if (typeof node.output === "string") return [node.output];
  if (node.type !== "llm" || node.schema === undefined) return [];
  try {
    return objectColumns(prepareSchema(node.schema).node) ?? [];
  } catch {
    return []; // the node's own .agent() reports the schema's error, naming the node
  }
}

function renameTemplates(value: unknown, renames: Map<string, string>): unknown {
  if (typeof value === "string")
    return value.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (whole, n: string) =>
      renames.has(n) ? `{{${renames.get(n)}}}` : whole,
    );
  if (Array.isArray(value)) return value.map((v) => renameTemplates(v, renames));
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, renameTemplates(v, renames)]),
    );
  return value;
}

export function workflow(yamlOrPath: string, options: WorkflowOptions = {}): Workflow {
  if (typeof yamlOrPath !== "string")
    throw new TypeError(
      `halo.workflow: expected YAML text or a .yaml path, got ${describe(yamlOrPath)}`,
    );
  const isPath = !yamlOrPath.includes("\n") && /\.ya?ml$/i.test(yamlOrPath.trim());
  if (isPath && !existsSync(yamlOrPath.trim()))
    throw new Error(`halo.workflow: no file ${yamlOrPath}`);
  const text = isPath ? readFileSync(yamlOrPath.trim(), "utf8") : yamlOrPath;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`halo.workflow: not valid YAML: ${(err as Error).message}`);
  }
  const d = doc as { name?: unknown; nodes?: unknown; edges?: unknown };
  if (!d || typeof d !== "object")
    throw new Error(
      `halo.workflow: expected a mapping with \`nodes\` and \`edges\`, got ${describe(doc)}`,
    );
  const name = typeof d.name === "string" ? d.name : "workflow";
  if (!Array.isArray(d.nodes) || d.nodes.length === 0)
    fail(name, `\`nodes\` must be a non-empty list, got ${describe(d.nodes)}`);
  const edges = (d.edges ?? []) as EdgeSpec[];
  if (!Array.isArray(edges))
    fail(name, `\`edges\` must be a list of { from, to, map?, loop? }, got ${describe(edges)}`);

  const nodes = new Map<string, NodeSpec>();
  for (const raw of d.nodes as NodeSpec[]) {
    if (!raw || typeof raw.id !== "string" || raw.id === "")
      fail(name, `every node needs an id, got ${JSON.stringify(raw)}`);
    if (nodes.has(raw.id)) fail(name, `two nodes have id '${raw.id}'`);
    if (!TYPES.includes(raw.type))
      fail(
        name,
        `node '${raw.id}': type must be one of ${TYPES.join(", ")}, got ${describe(raw.type)}`,
      );
    nodes.set(raw.id, raw);
  }
  const inputs = [...nodes.values()].filter((n) => n.type === "input");
  if (inputs.length > 1)
    fail(name, `at most one input node, found ${inputs.map((n) => n.id).join(", ")}`);

  const forward: EdgeSpec[] = [];
  const back: EdgeSpec[] = [];
  for (const e of edges) {
    if (!e || !nodes.has(e.from) || !nodes.has(e.to))
      fail(
        name,
        `edge ${JSON.stringify(e)} names a node that does not exist (nodes: ${[...nodes.keys()].join(", ")})`,
      );
    if (e.loop !== undefined) {
      if (!Number.isInteger(e.loop) || e.loop < 1 || e.loop > 100)
        fail(
          name,
          `edge ${e.from} -> ${e.to}: loop must be an integer from 1 to 100, got ${describe(e.loop)}`,
        );
      back.push(e);
    } else forward.push(e);
  }

  // Edges may be left implicit: a node reading another node's output (a `{{column}}` in its
  // templates, or a function input) runs after it. Explicit edges between the pair win, so a
  // loop's back edge is not doubled into a cycle.
  const linked = (a: string, b: string) =>
    edges.some((e) => (e.from === a && e.to === b) || (e.from === b && e.to === a));
  for (const node of nodes.values()) {
    const { id: _i, type: _t, output: _o, schema: _s, inputs, ...fields } = node;
    const reads = valueTemplateColumns(fields);
    if (Array.isArray(inputs))
      reads.push(...inputs.filter((x): x is string => typeof x === "string"));
    for (const producer of nodes.values())
      if (
        producer.id !== node.id &&
        writes(producer).some((c) => reads.includes(c)) &&
        !linked(producer.id, node.id)
      )
        forward.push({ from: producer.id, to: node.id });
  }

  const succ = new Map<string, string[]>([...nodes.keys()].map((k) => [k, []]));
  for (const e of forward) succ.get(e.from)!.push(e.to);
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      const x = stack.pop()!;
      if (x === to) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      stack.push(...succ.get(x)!);
    }
    return false;
  };
  // Loop bodies: nodes on a forward path from the loop's head to its tail.
  const loops = back.map((e) => {
    if (!reaches(e.to, e.from))
      fail(name, `edge ${e.from} -> ${e.to} has loop but ${e.to} does not lead to ${e.from}`);
    const body = [...nodes.keys()].filter((n) => reaches(e.to, n) && reaches(n, e.from));
    return { tail: e.from, body, times: e.loop! };
  });
  // Whatever reads a loop's result must wait for the last pass: order it after the tail.
  const extra: [string, string][] = [];
  for (const l of loops)
    for (const b of l.body)
      for (const s of succ.get(b)!) if (!l.body.includes(s)) extra.push([l.tail, s]);

  // Kahn's algorithm, ties broken by declaration order so the plan is stable.
  const indeg = new Map<string, number>([...nodes.keys()].map((k) => [k, 0]));
  const all = [...forward.map((e) => [e.from, e.to] as [string, string]), ...extra];
  for (const [, to] of all) indeg.set(to, indeg.get(to)! + 1);
  const order: string[] = [];
  const ready = [...nodes.keys()].filter((k) => indeg.get(k) === 0);
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const [from, to] of all)
      if (from === id) {
        indeg.set(to, indeg.get(to)! - 1);
        if (indeg.get(to) === 0) ready.push(to);
      }
    ready.sort((a, b) => [...nodes.keys()].indexOf(a) - [...nodes.keys()].indexOf(b));
  }
  if (order.length !== nodes.size)
    fail(
      name,
      `the edges have a cycle (${[...nodes.keys()].filter((k) => !order.includes(k)).join(", ")}); mark the back edge with loop: N`,
    );

  const steps: string[] = [];
  for (const id of order) {
    steps.push(id);
    for (const l of loops)
      if (l.tail === id)
        for (let pass = 2; pass <= l.times + 1; pass++)
          for (const b of order.filter((o) => l.body.includes(o))) steps.push(`${b}#${pass}`);
  }

  const renamesFor = (id: string) => {
    const renames = new Map<string, string>();
    for (const e of forward)
      if (e.to === id && e.map)
        for (const [src, dst] of Object.entries(e.map)) renames.set(dst, src);
    return renames;
  };

  const compile = (frame: LazyFrame, step: string): LazyFrame => {
    const id = step.split("#")[0]!;
    const { id: _id, type, schema, ...fields } = nodes.get(id)!;
    // a schema is data, not templates: its strings (patterns, descriptions) are never renamed
    const spec = renameTemplates(fields, renamesFor(id)) as Record<string, unknown>;
    if (schema !== undefined) spec.schema = schema;
    const label = step;
    try {
      switch (type) {
        case "input": {
          const columns = spec.columns;
          if (columns !== undefined)
            checkColumnsExist(`input node '${id}'`, columns as string[], frame.columns);
          return frame;
        }
        case "llm":
          return frame.agent({ name: label, ...spec } as never);
        case "http":
          return frame.http({ name: label, ...spec } as never);
        case "sql": {
          const { db, ...rest } = spec;
          // Own names only: `db: constructor` must not find Object's.
          const named = db !== undefined && Object.hasOwn(options.databases ?? {}, String(db));
          const database =
            db === undefined
              ? options.defaultDatabase
              : named
                ? options.databases![String(db)]
                : undefined;
          if (db !== undefined && !database)
            throw new Error(
              `db '${String(db)}' is not in options.databases (${Object.keys(options.databases ?? {}).join(", ") || "none given"})`,
            );
          return frame.sql({ name: label, ...rest, ...(database && { db: database }) } as never);
        }
        case "function": {
          const { function: fnName, ...rest } = spec;
          const fns = options.functions ?? {};
          const fn = Object.hasOwn(fns, String(fnName)) ? fns[String(fnName)] : undefined;
          if (!fn)
            throw new Error(
              `function '${String(fnName)}' is not in options.functions (${Object.keys(options.functions ?? {}).join(", ") || "none given"})`,
            );
          return frame.tool(fn as ToolFn, { name: label, ...rest } as never);
        }
      }
    } catch (err) {
      fail(name, `node '${id}': ${(err as Error).message}`);
    }
    return frame;
  };

  return {
    name,
    steps,
    run(input: unknown): LazyFrame {
      return steps.reduce(compile, LazyFrame.from(input));
    },
  };
}
