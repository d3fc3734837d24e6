// The straightforward executor: node by node in topological order, one call per row, awaited
// one at a time. Slow by design and simple enough to trust: the Processor's outputs are tested
// against it. What a row does at each node (reuse, stores, errors, interrupts) is row-steps.ts,
// shared with the Processor; this file is only the order things run in.
import type { NodeStats, TaskKind } from "../processor/trace/trace.ts";
import type { PlanDag, PlanNode, Row } from "../plan/types.ts";
import { topologicalOrder } from "../plan/dag.ts";
import { abortError } from "../tools/types.ts";
import {
  checkMapResult,
  fnRequest,
  hasError,
  httpRequest,
  joinRows,
  llmMessages,
  llmSampling,
  llmValue,
  selectRow,
  sqlRequest,
  testPredicate,
  userRow,
  withAnswer,
} from "./row-ops.ts";
import { RowSteps } from "./row-steps.ts";
import {
  ERRORS_COLUMN,
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

/** A row that a filter dropped. */
const DROP = Symbol("dropped");

export class RowByRowExecutor implements Executor {
  readonly name = "row-by-row";

  async execute(dag: PlanDag, ctx: ExecuteContext): Promise<SinkResult[]> {
    const started = performance.now();
    const now = () => performance.now() - started;
    const aborted = () => ctx.signal?.aborted === true;
    // An interrupt with onError "raise" stops at the next row; with "null" it makes no new calls
    // but still finishes the table (CPU-only maps still run).
    const steps = new RowSteps(dag, ctx, {
      stopping: () => (aborted() && ctx.onError === "raise" ? abortError(ctx.signal) : undefined),
      interrupted: () => aborted() && ctx.onError === "null",
    });
    // Nodes whose result came from the store make their inputs unnecessary: walk demand first.
    const { reused, needed } = steps.reuseWalk();
    const results = new Map<number, StoredResult>(reused);

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
      try {
        if (!reused.has(id)) {
          const inputs = node.inputs.map((i) => results.get(i)!);
          const rows = await this.runNode(node, inputs, ctx, steps, stats, now);
          results.set(id, { columns: node.columns, rows });
          steps.keepTable(node, rows);
        }
        stats.rows = results.get(id)!.rows.length;
      } finally {
        // Also for the node a failure or a stop ended: halo.lastRun shows the calls it made.
        stats.measuredMs = now() - nodeStart;
        const stored = steps.storedCalls(id);
        if (stored > 0) stats.storedCalls = stored;
        ctx.trace.nodes.push(stats);
      }
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
    steps: RowSteps,
    stats: NodeStats,
    now: () => number,
  ): Promise<Row[]> {
    const input = inputs[0]?.rows ?? [];
    switch (node.kind) {
      case "Source":
        ctx.onProgress?.({
          nodeId: node.id,
          label: node.label,
          kind: node.kind,
          done: 1,
          total: 1,
        });
        return node.args.data.rows;
      case "Sink":
      case "SinkMultiple":
        return input;
      case "Join":
        ctx.onProgress?.({
          nodeId: node.id,
          label: node.label,
          kind: node.kind,
          done: 1,
          total: 1,
        });
        return joinRows(inputs[0]!, inputs[1]!, node.args);
      case "Map": {
        const op = node.args.op;
        if (op.type === "select") return input.map((r) => selectRow(r, op.columns));
        return this.perRow(node, input, ctx, steps, stats, async (row) => {
          const out = checkMapResult(await op.fn(userRow(row)), node.label);
          return hasError(row) ? { ...out, [ERRORS_COLUMN]: row[ERRORS_COLUMN] } : { ...out };
        });
      }
      case "Filter": {
        const predicate = node.args.predicate;
        return this.perRow(node, input, ctx, steps, stats, async (row) =>
          (await testPredicate(predicate, row)) ? row : DROP,
        );
      }
      default: {
        const [lane, kind] = LANES[node.kind]!;
        // The optimizer's dedupe-calls asks equal requests of this node to run once, the result
        // fanned out to every row that makes them (never for volatile calls).
        const shared =
          node.physical?.fanOut && node.volatility !== "volatile"
            ? new Map<string, Promise<unknown>>()
            : undefined;
        return this.perRow(node, input, ctx, steps, stats, async (row) => {
          const value = await steps.call(node, row, (key) => {
            const pending = key === undefined ? undefined : shared?.get(key);
            if (pending) return pending;
            const run = this.call(node, row, ctx, stats, now, lane, kind);
            if (key !== undefined) shared?.set(key, run);
            return run;
          });
          return withAnswer(row, node, value);
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

  /** Applies `step` to each row in order, under the shared step rules. */
  private async perRow(
    node: PlanNode,
    rows: Row[],
    ctx: ExecuteContext,
    steps: RowSteps,
    stats: NodeStats,
    step: (row: Row) => Promise<Row | typeof DROP>,
  ): Promise<Row[]> {
    const out: Row[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const left = steps.skip(node, row);
      if (left !== undefined) {
        out.push(left);
        continue;
      }
      try {
        const result = await step(row);
        if (result !== DROP) out.push(result);
      } catch (err) {
        out.push(steps.failed(node, row, i, rows.length, err));
      }
      ctx.onProgress?.({
        nodeId: node.id,
        label: node.label,
        kind: node.kind,
        done: i + 1,
        total: rows.length,
        // Cumulative, as the Processor reports them: a budget and the progress bar follow it.
        ...(node.kind === "LlmCall" && {
          tokens: {
            prefill: stats.prefillTokens,
            cached: stats.cachedTokens,
            decode: stats.decodeTokens,
          },
        }),
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
