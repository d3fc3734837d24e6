// The per-row step rules both executors share, so the reference executor (row-by-row.ts) and the
// Processor (src/processor/pipeline-executor.ts) differ only in scheduling:
// - the reuse walk: which nodes' stored tables stand in for them (and for all only they need);
// - what a row does at a node without running it (failed upstream, interrupted run);
// - every call goes through the stores: a kept answer, else the call, kept once it succeeds;
// - the error policy: a failed step gives the row its error (onError "null", or a null output
//   when interrupted) or stops the run with a RowError saying what was kept;
// - which node tables the session store keeps.
// Every render of a row's values happens inside `call` or the step that calls it, so a value
// that cannot be rendered fails its own row only.
import { CALL_KINDS, type PlanDag, type PlanNode, type Row } from "../plan/types.ts";
import {
  callKey,
  hasError,
  isInterrupted,
  outputsOf,
  withError,
  withInterrupted,
  withNulls,
} from "./row-ops.ts";
import { RowError, type ExecuteContext, type StoredResult } from "./types.ts";

/** What the executor says about its run, asked at every row. */
export interface RunState {
  /** Set when the run is stopping (onError "raise" and aborted, or a row failed): rethrown. */
  stopping(): unknown;
  /** The caller's signal aborted a run with onError "null": no new calls; rows keep going. */
  interrupted(): boolean;
  /** Told of the RowError before it is thrown (the Processor stops its other rows). */
  onRowError?(error: RowError): void;
}

export class RowSteps {
  /** Per call node: rows through it (called or answered from a store). */
  private readonly finished = new Map<number, number>();
  /** Per call node: rows answered from a store. */
  private readonly stored = new Map<number, number>();
  /** The RowError that stops the run, with what its kept note is about. */
  private failure: { error: RowError; node: PlanNode; total: number } | undefined;

  constructor(
    private readonly dag: PlanDag,
    private readonly ctx: ExecuteContext,
    private readonly state: RunState,
  ) {}

  /**
   * The reuse walk, from the root: a stable call node whose table the session store holds
   * stands in for itself and everything only it needs. Returns those tables and the nodes that
   * must run; the reused ids also go to `ctx.reused`.
   */
  reuseWalk(): { reused: Map<number, StoredResult>; needed: Set<number> } {
    const { ctx, dag } = this;
    const walk = reuseWalk(dag, (signature) => ctx.store?.get(signature));
    ctx.reused?.push(...walk.reused.keys());
    return walk;
  }

  /** Keeps a finished node's table for later collects: stable call nodes with no failed row. */
  keepTable(node: PlanNode, rows: Row[]): void {
    if (this.ctx.store && storable(node) && !rows.some(hasError))
      this.ctx.store.set(node.signature, { columns: node.columns, rows });
  }

  /**
   * The row as it leaves `node` without running the step, or undefined when the step runs:
   * a row failed upstream gets a null output, an interrupted run marks call outputs unfinished,
   * a filter keeps a row an interrupt left unfinished (its predicate cannot judge it).
   */
  skip(node: PlanNode, row: Row): Row | undefined {
    const stop = this.state.stopping();
    if (stop !== undefined) throw stop;
    const outputs = callOutputs(node);
    if (outputs !== undefined && hasError(row)) return withNulls(row, outputs);
    if (outputs !== undefined && this.state.interrupted())
      return withInterrupted(row, outputs, node.label);
    if (node.kind === "Filter" && isInterrupted(row)) return row;
    return undefined;
  }

  /**
   * One call of a call node for a row, through the stores: a kept answer when there is one,
   * else `run(key)`, kept as soon as it succeeds, before the row moves on. The key (equal
   * requests, equal keys) is rendered when the stores or dedupe-calls' fan-out need it, never
   * for a volatile call; otherwise the call renders its request only once, itself.
   */
  async call(
    node: PlanNode,
    row: Row,
    run: (key: string | undefined) => Promise<unknown>,
  ): Promise<unknown> {
    const stop = this.state.stopping();
    if (stop !== undefined) throw stop; // no new call once the run is stopping
    const calls = storable(node) ? this.ctx.calls : undefined;
    const keyed = node.volatility !== "volatile" && (calls || node.physical?.fanOut);
    const key = keyed ? callKey(node, row) : undefined;
    const kept = calls ? await calls.get(node, key!) : undefined;
    if (kept) {
      count(this.stored, node.id);
      count(this.finished, node.id);
      return kept.value;
    }
    const value = await run(key);
    // Counted on arrival: the write below is already certain (a failure elsewhere that ends the
    // run in the meantime does not stop it), and the RowError's count should include it.
    count(this.finished, node.id);
    if (calls) await calls.keep(node, key!, value);
    return value;
  }

  /**
   * A step threw for the row at `index` of the node's `total` input rows: the row as it
   * leaves (onError "null": with its error; interrupted: a null output), or a RowError naming
   * the node, the row and the column, and saying what was kept.
   */
  failed(node: PlanNode, row: Row, index: number, total: number, error: unknown): Row {
    const stop = this.state.stopping();
    if (stop !== undefined) throw stop;
    const outputs = callOutputs(node);
    if (outputs !== undefined && this.state.interrupted())
      return withInterrupted(row, outputs, node.label);
    if (this.ctx.onError === "null") return withError(row, outputs ?? [], node.label, error);
    const rowError = new RowError({
      node,
      rowIndex: index,
      row,
      cause: error,
      kept: this.keptNote(node, total),
    });
    this.failure = { error: rowError, node, total };
    this.state.onRowError?.(rowError);
    throw rowError;
  }

  /** The stopping RowError says what is kept now (calls that were running may have finished). */
  updateKept(): void {
    const f = this.failure;
    if (f) f.error.updateKept(this.keptNote(f.node, f.total));
  }

  /** Rows of a call node answered from a store in this run. */
  storedCalls(nodeId: number): number {
    return this.stored.get(nodeId) ?? 0;
  }

  private keptNote(node: PlanNode, total: number): string {
    if (!this.ctx.calls) return "nothing was kept (collect({ reuse: false }))";
    const rest = "a rerun computes only the rest";
    if (!CALL_KINDS.has(node.kind)) return `the calls that finished before it were kept: ${rest}`;
    if (!storable(node))
      return `this node's calls are not deterministic, so none was kept (finished deterministic calls were): ${rest}`;
    const done = this.finished.get(node.id) ?? 0;
    if (done > 0) return `${done} of ${total} rows had finished this node and were kept: ${rest}`;
    const before = this.ctx.calls.counts.kept;
    return before > 0
      ? `no row had finished this node yet; the ${before} calls finished before it were kept: ${rest}`
      : "no call had finished yet, so nothing was kept";
  }
}

/**
 * The reuse walk over a plan, from the root: a stable call node whose table `lookup` finds
 * stands in for itself and everything only it needs. The executors run it; the estimate runs it
 * with the same lookup, so what a run will reuse is what the estimate counts as free.
 */
export function reuseWalk<T>(
  dag: PlanDag,
  lookup: (signature: string) => T | undefined,
): { reused: Map<number, T>; needed: Set<number> } {
  const reused = new Map<number, T>();
  const needed = new Set<number>();
  const demand = (id: number) => {
    if (needed.has(id)) return;
    needed.add(id);
    const node = dag.nodes[id]!;
    const hit = storable(node) ? lookup(node.signature) : undefined;
    if (hit !== undefined) {
      reused.set(id, hit);
      return;
    }
    node.inputs.forEach(demand);
  };
  demand(dag.root);
  return { reused, needed };
}

/** Results the stores may keep: stable call nodes (never volatile, never per-run reads). */
function storable(node: PlanNode): boolean {
  return CALL_KINDS.has(node.kind) && node.volatility === "stable";
}

/** The columns a call node writes; undefined for other nodes (a map keeps its own columns). */
function callOutputs(node: PlanNode): string[] | undefined {
  return CALL_KINDS.has(node.kind) ? outputsOf(node) : undefined;
}

function count(counts: Map<number, number>, id: number): void {
  counts.set(id, (counts.get(id) ?? 0) + 1);
}
