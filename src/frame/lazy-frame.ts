// LazyFrame: an immutable handle on a logical plan. Each verb checks its arguments at once,
// appends one node and returns a new frame; nothing runs before collect(). The verbs themselves
// live in ./verbs/, one concern per file; these methods carry the docs and delegate.
import { inspect } from "node:util";
import { DISPLAY_SYMBOL, type MimeBundle } from "../display/host.ts";
import type { SinkResult } from "../executor/types.ts";
import { explain, type ExplainOptions } from "../plan/explain.ts";
import type { Expr } from "../plan/expr.ts";
import { planGraph, type PlanGraph } from "../plan/graph.ts";
import { showValue } from "../plan/show-value.ts";
import { makeLogical, type LogicalNode } from "../plan/logical.ts";
import type { PlanDag, Row, ToolFn } from "../plan/types.ts";
import { collectPlans, estimatePlans, planFor, toDanfo, type CollectOptions } from "./collect.ts";
import type { PlanEstimate } from "./plan-estimate.ts";
import { isArrowTable, isDanfoFrame, toTableData } from "./table-input.ts";
import { agentVerb, type AgentSpec } from "./verbs/agent.ts";
import { httpVerb, type HttpSpec } from "./verbs/http.ts";
import {
  filterVerb,
  joinVerb,
  mapVerb,
  selectVerb,
  type JoinOptions,
  type MapOptions,
} from "./verbs/relational.ts";
import { sqlVerb, type SqlSpec } from "./verbs/sql.ts";
import { toolVerb, type ToolSpec } from "./verbs/tool.ts";

export interface FrameExplainOptions extends Omit<ExplainOptions, "format"> {
  /** Show the plan after the optimizer (default true). */
  optimized?: boolean;
  format?: "text" | "tree";
}

/** A source node reading `input` at lower() time, so later changes to a DataFrame are seen. */
export function sourceNode(input: unknown, where: string): LogicalNode {
  let columns: string[];
  let origin: string;
  let read: () => ReturnType<typeof toTableData>;
  if (isDanfoFrame(input)) {
    origin = "danfo";
    columns = [...input.columns].map(String);
    read = () => toTableData(input, where);
  } else if (isArrowTable(input)) {
    origin = "arrow";
    columns = input.schema.fields.map((f) => f.name);
    read = () => toTableData(input, where);
  } else if (Array.isArray(input)) {
    origin = "rows";
    // Rows are read now (a copy) so the plan's columns are known; later edits to the array are
    // still seen because read() runs again at lower().
    columns = toTableData(input, where).columns;
    read = () => toTableData(input, where);
  } else
    throw new TypeError(
      `${where}: expected a danfo DataFrame, an apache-arrow Table or an array of row objects, got ${showValue(input)}`,
    );
  return makeLogical("Source", [], { reader: { origin, read } }, columns, "");
}

export class LazyFrame {
  /** The logical plan this frame ends in. */
  readonly node: LogicalNode;

  constructor(node: LogicalNode) {
    this.node = node;
  }

  /** `halo.lazy(df | arrowTable | rows)`. */
  static from(input: unknown): LazyFrame {
    if (input instanceof LazyFrame) return input;
    return new LazyFrame(sourceNode(input, "halo.lazy(source)"));
  }

  /** Output columns as far as known without running (null after a map that declares none). */
  get columns(): string[] | null {
    return this.node.columns ? [...this.node.columns] : null;
  }

  /**
   * An LLM call per row.
   * @example df.agent({ prompt: "Review: {{review}}\nSentiment:", choices: ["positive", "negative"], output: "label" })
   */
  agent(spec: AgentSpec): LazyFrame {
    return new LazyFrame(agentVerb(this.node, spec));
  }

  /**
   * A SQL query per row; params are bound, never spliced.
   * @example lf.sql({ query: "select price from products where name = $name", params: { name: "{{product}}" }, output: "price", shape: "value" })
   */
  sql(spec: SqlSpec): LazyFrame {
    return new LazyFrame(sqlVerb(this.node, spec));
  }

  /**
   * An HTTP request per row.
   * @example lf.http({ url: "http://127.0.0.1:8080/stock?sku={{sku}}", output: "stock" })
   */
  http(spec: HttpSpec): LazyFrame {
    return new LazyFrame(httpVerb(this.node, spec));
  }

  /**
   * A local function per row, called with the `inputs` columns.
   * @example lf.tool((text) => text.length, { inputs: "review", output: "chars" })
   */
  tool(fn: ToolFn | ((...args: never[]) => unknown), spec: ToolSpec): LazyFrame {
    return new LazyFrame(toolVerb(this.node, fn as ToolFn, spec));
  }

  /**
   * A row object in, a row object out.
   * @example lf.map((r) => ({ ...r, short: r.review.slice(0, 20) }), { columns: ["id", "review", "short"] })
   */
  map(fn: (row: Row) => Row | Promise<Row>, options?: MapOptions): LazyFrame {
    return new LazyFrame(mapVerb(this.node, fn, options));
  }

  /**
   * Keeps rows where the predicate holds. Expressions are analysable (the optimizer may move
   * them before expensive nodes); closures are not.
   * @example lf.filter(halo.col("label").eq("negative"))
   */
  filter(
    predicate: Expr | ((row: Row) => unknown),
    options?: { name?: string; key?: string },
  ): LazyFrame {
    return new LazyFrame(filterVerb(this.node, predicate, options));
  }

  /** @example lf.select(["id", "label"]) */
  select(columns: string | string[]): LazyFrame {
    return new LazyFrame(selectVerb(this.node, columns as string[]));
  }

  /**
   * Joins on equal key columns; `other` is a frame or anything `halo.lazy` accepts.
   * @example reviews.join(products, "sku", { how: "left" })
   */
  join(other: LazyFrame | unknown, on: string | string[], options?: JoinOptions): LazyFrame {
    const right = other instanceof LazyFrame ? other.node : sourceNode(other, ".join(other, on)");
    return new LazyFrame(joinVerb(this.node, right, on, options));
  }

  /** Runs the plan; resolves to a danfo DataFrame. */
  async collect(options: CollectOptions = {}): Promise<import("danfojs-node").DataFrame> {
    const [result] = await collectPlans([this.node], options);
    return toDanfo(result!);
  }

  /** Runs the plan; resolves to plain columns and row objects (no danfo conversion). */
  async collectRows(options: CollectOptions = {}): Promise<SinkResult> {
    const [result] = await collectPlans([this.node], options);
    return result!;
  }

  /**
   * What collect(options) would cost, planned exactly as it plans (the same passes and context,
   * kept tables free), with nothing run: seconds, prompt / cached / generated tokens, LLM and
   * tool calls, dollars at the models' prices, per node. Displays as a table in a notebook.
   * @example const e = await lf.estimate(); e.tokens; e.nodes[0].decodeTokens
   */
  async estimate(options: CollectOptions = {}): Promise<PlanEstimate> {
    return estimatePlans([this.node], options);
  }

  /** The PlanDag collect() would run. */
  plan(
    options: { optimized?: boolean; optimizations?: CollectOptions["optimizations"] } = {},
  ): PlanDag {
    return planFor([this.node], options.optimizations, options.optimized ?? true).dag;
  }

  /** The plan as text (`format: "tree"` draws it as a tree). */
  explain(options: FrameExplainOptions = {}): string {
    const { optimized = true, ...rest } = options;
    // Asked for explicitly, the optimized plan comes with the optimizer's report (each pass's
    // effect, estimates before/after, predicted cache hits, epochs).
    return explain(this.plan({ optimized }), { report: options.optimized === true, ...rest });
  }

  /** A generic node/edge graph of the plan for drawings. */
  graph(): PlanGraph {
    return planGraph(this.plan());
  }

  toString(): string {
    return this.explain();
  }

  [inspect.custom](): string {
    return `LazyFrame\n${this.explain()}`;
  }

  /** The kernel's display: explain text (the display module adds the drawing). */
  /** In a notebook: the explain text plus the plan drawn as a graph (SVG). */
  async [DISPLAY_SYMBOL](): Promise<MimeBundle> {
    const text = this.explain();
    // Loaded on first display: elkjs and the drawing code are not needed to build plans.
    const { explainBundle } = await import("../display/explain.ts");
    return explainBundle(text, this.graph());
  }
}

/** `halo.collectAll([a, b])`: one consolidated plan, shared work runs once. */
export async function collectAll(
  frames: LazyFrame[],
  options: CollectOptions = {},
): Promise<import("danfojs-node").DataFrame[]> {
  const results = await collectPlans(framesOf(frames, "collectAll"), options);
  return Promise.all(results.map(toDanfo));
}

/** `halo.estimateAll([a, b])`: what `collectAll` of them would cost, with nothing run. */
export async function estimateAll(
  frames: LazyFrame[],
  options: CollectOptions = {},
): Promise<PlanEstimate> {
  return estimatePlans(framesOf(frames, "estimateAll"), options);
}

function framesOf(frames: LazyFrame[], verb: string) {
  if (!Array.isArray(frames) || frames.length === 0 || !frames.every((f) => f instanceof LazyFrame))
    throw new TypeError(
      `halo.${verb}(frames): expected a non-empty array of LazyFrames, got ${showValue(frames)}`,
    );
  return frames.map((f) => f.node);
}
