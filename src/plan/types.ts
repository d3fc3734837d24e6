// The plan as data. `LogicalPlan` (logical.ts) is what frame verbs build; `PlanDag` is what
// `lower()` makes of one or more of them at `collect()`: numbered nodes in an arena, each naming
// its inputs by id. Optimizer passes are pure `PlanDag -> PlanDag` functions, so a PlanDag stays
// plain data: a pass copies `nodes` with spreads (closures inside `args` are shared, and never
// called during planning).
import type { ExprNode } from "./expr.ts";

export type Row = Record<string, unknown>;

export type NodeKind =
  | "Source"
  | "LlmCall"
  | "SqlCall"
  | "HttpCall"
  | "FnCall"
  | "Map"
  | "Filter"
  | "Join"
  | "Sink"
  | "SinkMultiple";

/**
 * Whether two nodes with equal arguments may share one result:
 * - "stable": yes, within a run and across collects of the session (greedy or seeded LLM calls,
 *   read-only SQL on the embedded database, deterministic tools).
 * - "run": within one run only (reads of an external database another client may change).
 * - "volatile": never (sampling without a seed, non-deterministic tools): the signature carries
 *   a fresh nonce, so it equals nothing else.
 */
export type Volatility = "stable" | "run" | "volatile";

/** A table read at `lower()` time: rows as objects, columns in order. */
export interface TableData {
  columns: string[];
  rows: Row[];
}

export interface SourceArgs {
  data: TableData;
  /** Hash of the content: changing the data changes every signature downstream. */
  contentHash: string;
  /** Where it came from, for explain: "danfo", "arrow" or "rows". */
  origin: string;
}

export interface LlmArgs {
  prompt: string;
  system?: string;
  /** The answer's column; absent when `columns` spreads an object schema's properties. */
  output?: string;
  choices?: string[];
  /** JSON Schema the answer satisfies (constrained decoding); the answer is then a JSON value. */
  schema?: Record<string, unknown>;
  /** With an object schema and no `output`: its top-level properties, each a column, in order. */
  columns?: string[];
  maxTokens: number;
  stop?: string[];
  temperature?: number;
  seed?: number;
  /** What the user wrote: a registered name, a folder, or undefined for the shipped model. */
  model?: string;
  /** The registry key the executor resolves (stable across sessions: a name or a folder). */
  modelKey: string;
}

export type SqlShape = "rows" | "row" | "value";

export interface SqlArgs {
  query: string;
  /** Named parameter -> template string or constant; always bound, never spliced into `query`. */
  params: Record<string, string | number | boolean | null>;
  output: string;
  shape: SqlShape;
  /** Key of the database in the session registry ("duckdb:default", "pg:1", ...). */
  dbKey: string;
  readOnly: boolean;
}

export interface HttpArgs {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** A template string, or an object whose string leaves are templates (sent as JSON). */
  body?: unknown;
  output: string;
  timeoutMs: number;
  retries: number;
}

export type ToolFn = (...args: unknown[]) => unknown;

export interface FnArgs {
  fn: ToolFn;
  /** Column names passed as positional arguments, in order. */
  inputs: string[];
  output: string;
  /** Identity of the function for signatures: its name and source text, or a user key. */
  fnKey: string;
}

export type MapOp =
  | { type: "fn"; fn: (row: Row) => Row | Promise<Row>; fnKey: string }
  | { type: "select"; columns: string[] };

export interface MapArgs {
  op: MapOp;
  /** Columns a `fn` map declares it returns; null when not declared (schema unknown after it). */
  columns: string[] | null;
}

export type Predicate =
  | { type: "expr"; expr: ExprNode }
  | { type: "fn"; fn: (row: Row) => unknown; fnKey: string };

export interface FilterArgs {
  predicate: Predicate;
}

export type JoinHow = "inner" | "left";

export interface JoinArgs {
  on: string[];
  how: JoinHow;
  /** Appended to a right-side column whose name the left side already has. */
  suffix: string;
}

export interface SinkArgs {
  /** Position of the frame among those collected together. */
  index: number;
}

export type SinkMultipleArgs = Record<string, never>;

export interface NodeArgsByKind {
  Source: SourceArgs;
  LlmCall: LlmArgs;
  SqlCall: SqlArgs;
  HttpCall: HttpArgs;
  FnCall: FnArgs;
  Map: MapArgs;
  Filter: FilterArgs;
  Join: JoinArgs;
  Sink: SinkArgs;
  SinkMultiple: SinkMultipleArgs;
}

export interface PlanNodeOf<K extends NodeKind> {
  id: number;
  kind: K;
  /** Ids of input nodes, in order (Join: [left, right]). */
  inputs: number[];
  args: NodeArgsByKind[K];
  /** Output columns, or null when unknown (after a map without declared columns). */
  columns: string[] | null;
  /** Short name for explain and traces (`name` given to the verb, or a default). */
  label: string;
  volatility: Volatility;
  /** Canonical signature: hash of kind + normalized args + input signatures. */
  signature: string;
  /** How many logical nodes were merged into this one (1 when none). */
  merged: number;
}

export type PlanNode = { [K in NodeKind]: PlanNodeOf<K> }[NodeKind];

export interface PlanDag {
  /** Arena: `nodes[i].id === i`. `lower()` numbers nodes topologically (inputs first); passes
   * may append nodes out of that order, so consumers walk `topologicalOrder(dag)`. */
  nodes: PlanNode[];
  /** The Sink (one frame) or SinkMultiple (several) everything flows into. */
  root: number;
  /** Sink ids in the order the frames were given to `collect`/`collectAll`. */
  sinks: number[];
}

/** Kinds whose work is a call per row (the expensive part the optimizer cares about). */
export const CALL_KINDS: ReadonlySet<NodeKind> = new Set([
  "LlmCall",
  "SqlCall",
  "HttpCall",
  "FnCall",
]);
