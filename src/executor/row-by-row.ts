// The straightforward executor: node by node in topological order, one call per row, awaited
// one at a time. Slow by design and simple enough to trust: the Processor's outputs are tested
// against it. Results of stable call nodes are taken from / given to the session store.
import type { NodeStats, TaskKind } from "../processor/trace/trace.ts";
import { CALL_KINDS, type PlanDag, type PlanNode, type Row } from "../plan/types.ts";
import { topologicalOrder } from "../plan/dag.ts";
import { abortError } from "../tools/types.ts";
import {
  callKey,
  checkMapResult,
  fnRequest,
  hasError,
  httpRequest,
  isInterrupted,
  joinRows,
  llmMessages,
  llmSampling,
  selectRow,
  sqlRequest,
  testPredicate,
  userRow,
  llmValue,
  outputsOf,
  withAnswer,
  withError,
  withInterrupted,
  withNulls,
} from "./row-ops.ts";
import {
  ERRORS_COLUMN,
  RowError,
  type ExecuteContext,
  type Executor,
  type SinkResult,
  type StoredResult,
} from "./types.ts";

const LANES: Record<string, [string, TaskKind]> = {
  LlmCall: ["llm:0", "decode"],
  SqlCall: ["tool:sql", "sql"],
  HttpCall: ["tool:http", "http"],
  FnCall: ["tool:function", "function"],
};

export class RowByRowExecutor implements Executor {
  readonly name = "row-by-row";

  async execute(dag: PlanDag, ctx: ExecuteContext): Promise<SinkResult[]> {
    const started = performance.now();
    const now = () => performance.now() - started;
    const results = new Map<number, StoredResult>();
    // Nodes whose result came from the store make their inputs unnecessary: walk demand first.
    const needed = new Set<number>();
    const reused = new Set<number>();
    const demand = (id: number) => {
      if (needed.has(id)) return;
      needed.add(id);
      const node = dag.nodes[id]!;
      if (ctx.store && CALL_KINDS.has(node.kind) && node.volatility === "stable") {
        const hit = ctx.store.get(node.signature);
        if (hit) {
          results.set(id, hit);
          reused.add(id);
          ctx.reused?.push(id);
          return;
        }
      }
      node.inputs.forEach(demand);
    };
    demand(dag.root);

    for (const id of topologicalOrder(dag)) {
      if (!needed.has(id)) continue;
      const node = dag.nodes[id]!;
      const nodeStart = now();
      const stats: NodeStats = {
        nodeId: id,
        label: node.label,
        kind: node.kind,
        rows: 0,
        calls: 0,
        measuredMs: 0,
        prefillTokens: 0,
        cachedTokens: 0,
        decodeTokens: 0,
      };
      if (!reused.has(id)) {
        const inputs = node.inputs.map((i) => results.get(i)!);
        const rows = await this.runNode(node, inputs, ctx, stats, now);
        results.set(id, { columns: node.columns, rows });
        if (
          ctx.store &&
          CALL_KINDS.has(node.kind) &&
          node.volatility === "stable" &&
          !rows.some(hasError)
        )
          ctx.store.set(node.signature, { columns: node.columns, rows });
      }
      stats.rows = results.get(id)!.rows.length;
      stats.measuredMs = now() - nodeStart;
      ctx.trace.nodes.push(stats);
    }
    return dag.sinks.map((id) => {
      const { columns, rows } = results.get(id)!;
      return finishSink(columns, rows, ctx);
    });
  }

  private async runNode(
    node: PlanNode,
    inputs: StoredResult[],
    ctx: ExecuteContext,
    stats: NodeStats,
    now: () => number,
  ): Promise<Row[]> {
    const input = inputs[0]?.rows ?? [];
    const progress = (done: number, total: number) =>
      ctx.onProgress?.({ nodeId: node.id, label: node.label, kind: node.kind, done, total });
    switch (node.kind) {
      case "Source":
        progress(1, 1);
        return node.args.data.rows;
      case "Sink":
      case "SinkMultiple":
        return input;
      case "Join":
        progress(1, 1);
        return joinRows(inputs[0]!, inputs[1]!, node.args);
      case "Map": {
        const op = node.args.op;
        if (op.type === "select") return input.map((r) => selectRow(r, op.columns));
        return this.perRow(node, input, ctx, undefined, async (row) => {
          const out = checkMapResult(await op.fn(userRow(row)), node.label);
          return hasError(row) ? { ...out, [ERRORS_COLUMN]: row[ERRORS_COLUMN] } : { ...out };
        });
      }
      case "Filter": {
        const kept: Row[] = [];
        const predicate = node.args.predicate;
        for (let i = 0; i < input.length; i++) {
          if (ctx.signal?.aborted && ctx.onError === "raise") throw abortError(ctx.signal);
          const row = input[i]!;
          // Its outputs were never computed, so the predicate cannot judge it: it stays, marked.
          if (isInterrupted(row)) {
            kept.push(row);
            continue;
          }
          try {
            if (await testPredicate(predicate, row)) kept.push(row);
          } catch (err) {
            if (ctx.onError === "raise") throw new RowError(node.id, node.label, node.kind, i, err);
            kept.push(withError(row, [], node.label, err));
          }
        }
        progress(input.length, input.length);
        return kept;
      }
      default: {
        const [lane, kind] = LANES[node.kind]!;
        const outputs = outputsOf(node);
        // The optimizer's dedupe-calls asks equal requests of this node to run once, the result
        // fanned out to every row that makes them (never for volatile calls).
        const shared =
          node.physical?.fanOut && node.volatility !== "volatile"
            ? new Map<string, Promise<unknown>>()
            : undefined;
        return this.perRow(node, input, ctx, outputs, async (row) => {
          const key = shared ? callKey(node, row) : undefined;
          const pending = key === undefined ? undefined : shared!.get(key);
          if (pending) return withAnswer(row, node, await pending);
          const run = this.call(node, row, ctx, stats, now, lane, kind);
          if (key !== undefined) shared!.set(key, run);
          return withAnswer(row, node, await run);
        });
      }
    }
  }

  /** One call of a call node for one row: its value; stats and trace recorded. */
  private async call(
    node: PlanNode,
    row: Row,
    ctx: ExecuteContext,
    stats: NodeStats,
    now: () => number,
    lane: string,
    kind: TaskKind,
  ): Promise<unknown> {
    const start = now();
    let value: unknown;
    let tokens: { prefill: number; cached: number; decode: number } | undefined;
    const context = { signal: ctx.signal };
    if (node.kind === "LlmCall") {
      const model = await ctx.services.loadModel(node.args.modelKey);
      const promptTokens = model.encodeChat(llmMessages(node.args, row));
      const [result] = await model.generate(
        [{ promptTokens, sampling: llmSampling(node.args) }],
        context,
      );
      value = llmValue(node.args, result!.text);
      tokens = {
        prefill: result!.prefillTokens,
        cached: result!.cachedTokens,
        decode: result!.tokens.length,
      };
    } else if (node.kind === "SqlCall")
      value = await ctx.services.sql(sqlRequest(node.args, row), context);
    else if (node.kind === "HttpCall")
      value = await ctx.services.http(httpRequest(node.args, row), context);
    else if (node.kind === "FnCall")
      value = await ctx.services.fn(fnRequest(node.args, row), context);
    stats.calls++;
    if (tokens) {
      stats.prefillTokens += tokens.prefill;
      stats.cachedTokens += tokens.cached;
      stats.decodeTokens += tokens.decode;
    }
    ctx.trace.tasks.push({
      lane,
      kind,
      nodeIds: [node.id],
      startMs: start,
      endMs: now(),
      batchSize: 1,
      ...(tokens && {
        prefillTokens: tokens.prefill,
        cachedTokens: tokens.cached,
        decodeTokens: tokens.decode,
      }),
    });
    return value;
  }

  /** Applies `step` to each row in order; a row already failed upstream gets a null output. */
  private async perRow(
    node: PlanNode,
    rows: Row[],
    ctx: ExecuteContext,
    outputs: readonly string[] | undefined,
    step: (row: Row) => Promise<Row>,
  ): Promise<Row[]> {
    const out: Row[] = new Array(rows.length);
    // With onError "null" an interrupt makes no new calls but still finishes the table: rows not
    // through this call get a null output and the interrupted message; CPU-only maps still run.
    const interrupted = () => ctx.signal?.aborted === true;
    for (let i = 0; i < rows.length; i++) {
      if (interrupted() && ctx.onError === "raise") throw abortError(ctx.signal);
      const row = rows[i]!;
      if (outputs !== undefined && hasError(row)) {
        out[i] = withNulls(row, outputs);
        continue;
      }
      if (outputs !== undefined && interrupted()) {
        out[i] = withInterrupted(row, outputs, node.label);
        continue;
      }
      try {
        out[i] = await step(row);
      } catch (err) {
        if (interrupted() && ctx.onError === "raise") throw abortError(ctx.signal);
        if (ctx.onError === "raise") throw new RowError(node.id, node.label, node.kind, i, err);
        out[i] =
          outputs !== undefined && interrupted()
            ? withInterrupted(row, outputs, node.label)
            : withError(row, outputs ?? [], node.label, err);
      }
      ctx.onProgress?.({
        nodeId: node.id,
        label: node.label,
        kind: node.kind,
        done: i + 1,
        total: rows.length,
      });
    }
    return out;
  }
}

/** Sink output: declared columns (or those seen), plus `_errors` when failed rows are kept. */
export function finishSink(columns: string[] | null, rows: Row[], ctx: ExecuteContext): SinkResult {
  let cols = columns;
  if (cols === null) {
    const seen = new Set<string>();
    for (const r of rows) for (const k of Object.keys(r)) if (k !== ERRORS_COLUMN) seen.add(k);
    cols = [...seen];
  }
  if (ctx.onError !== "null") return { columns: cols, rows };
  const out = rows.map((r) => {
    const errors = r[ERRORS_COLUMN] as string[] | undefined;
    return { ...r, [ERRORS_COLUMN]: errors ? errors.join("; ") : null };
  });
  return { columns: [...cols, ERRORS_COLUMN], rows: out };
}
