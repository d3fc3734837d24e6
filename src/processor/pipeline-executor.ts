// One run of a PlanDag on the Processor (processor.ts): a dataflow of rows instead of node by node. Each row
// moves through the per-row nodes (LLM, SQL, HTTP, function, map, filter) as soon as its own
// inputs exist, so while one row waits on an HTTP call others fill the model's batch, and tool
// calls for upcoming LLM work run while the model computes. Only nodes that need a whole table
// (Join, Sink) wait for all their input rows. LLM calls of all rows meet in the Processor's worker
// of their lane (continuous batching): one per model, or the lanes place-work chose among
// `llm.workersPerModel` per model, each with its own model session and prefix cache, KV moving
// between a model's workers when that beats recomputing. Tool calls meet in the Processor's
// ToolPool (limits per kind, traces), with this run's result cache. The workers and the pool serve
// every run of the session; each request carries this run's sink, so this run's trace gets every
// forward call and tool call it took part in.
//
// Semantics are the row-by-row executor's: row-ops.ts (what a node does to a row) and
// row-steps.ts (reuse, stores, errors and interrupts per row) are shared, so the two differ only
// in scheduling: same outputs, same `_errors`, same reuse. Differences by design: with onError
// "raise" the first row to fail in time (not in row order) stops the run (no new call starts; the
// calls already running get up to KEEP_RUNNING_MS to finish and be kept), and its reported row
// index counts from the node's input stream before upstream filters.
//
// Cancellation: with onError "raise" an abort rejects the run at once. With onError "null" it
// stops every queued and running call (the LLM worker frees those sequences' KV) and the run
// still resolves with the whole table: rows that finished keep their outputs, the others get
// null outputs from the call they were in (or had yet to reach) and `_errors` saying so.
import { setMaxListeners } from "node:events";
import { topologicalOrder } from "../plan/dag.ts";
import {
  CALL_KINDS,
  type PlanDag,
  type PlanNode,
  type PlanNodeOf,
  type Row,
} from "../plan/types.ts";
import { abortError } from "../tools/types.ts";
import { httpWorstCaseMs } from "../tools/http.ts";
import {
  checkMapResult,
  fnRequest,
  hasError,
  httpRequest,
  answerOf,
  joinRows,
  llmMessages,
  llmSampling,
  llmValue,
  selectRow,
  sqlRequest,
  testPredicate,
  userRow,
  withAnswer,
} from "../executor/row-ops.ts";
import { finishSink } from "../executor/row-by-row.ts";
import { RowSteps } from "../executor/row-steps.ts";
import {
  ERRORS_COLUMN,
  type RowError,
  type ExecuteContext,
  type SinkResult,
} from "../executor/types.ts";
import { canonicalJson } from "../plan/canonical.ts";
import { NodeMeter } from "./trace/node-meter.ts";
import { llmMsByNode } from "./trace/node-shares.ts";
import type { ToolCall, ToolPool, ToolResultCache } from "./tools/tool-pool.ts";
import { TraceRecorder } from "./trace/trace-recorder.ts";
import type { GenerateResult } from "../runtime/types.ts";
import type { LlmSubmitter } from "./llm/llm-submitter.ts";
import { emptyMigrationStats } from "./kv/kv-exchange.ts";
import type { KvMigrationStats } from "./trace/trace.ts";
import type { RunSink } from "./trace/run-sink.ts";
import type { ProcessorConfig } from "./config.ts";
import type { LlmModel } from "../executor/types.ts";

/** A row that a filter dropped. */
const DROP = Symbol("dropped");
/**
 * How long a run whose row failed (onError "raise") lets its running calls finish before it
 * rejects. A failure at row 45 of 50 on the shipped model: the other 49 rows of the gathered
 * batch finished and were kept within the 0.4 s the failed run took in all (load 15, `halo bench
 * resume`), so the rerun made 1 call instead of 50; a call that hangs delays the error 3 s at most.
 */
const KEEP_RUNNING_MS = 3000;
/** An early start that made no call (the row failed or was dropped before it). */
const NO_CALL = Symbol("no call");
type Slot = Promise<Row | typeof DROP>;
/** What a call that starts early renders its request from (start-calls-early). */
type EarlySlot = Promise<Row | typeof NO_CALL>;

/** What a run asks of the Processor that runs it: its long-lived workers and tool pool. */
export interface RunHost {
  /** The worker of replica `replica` of the model loaded as `model` (key `modelKey`), under `config`. */
  llmWorker(
    model: LlmModel,
    modelKey: string,
    replica: number,
    config: ProcessorConfig,
  ): Promise<LlmSubmitter>;
  toolPool(config: ProcessorConfig): ToolPool;
  /** Tool results shared across runs (the server's), or undefined: each run keeps its own. */
  readonly toolResults: ToolResultCache | undefined;
}

/** A tool-result cache that keeps nothing (the `tools.cache: false` ablation). */
const NO_TOOL_CACHE: ToolResultCache = {
  get: () => undefined,
  set() {},
  delete() {},
  clear() {},
};

export class PipelineRun {
  private readonly trace = new TraceRecorder();
  private readonly pool: ToolPool;
  /** Equal tool calls of this run share one result (or the server's cache, across runs). */
  private readonly toolResults: ToolResultCache;
  private readonly abort = new AbortController();
  private readonly streams = new Map<number, Promise<Slot[]>>();
  private readonly meters = new Map<number, NodeMeter>();
  /** Per lane and model key: the worker and this run's sink on it. */
  private readonly submitters = new Map<string, Promise<{ worker: LlmSubmitter; sink: RunSink }>>();
  /** Per model: KV moved between its workers for this run. */
  private readonly migrations = new Map<LlmModel, KvMigrationStats>();
  /** Lanes of each model's workers, in replica order; lanes of models without placements. */
  private readonly modelLanes = new Map<LlmModel, Promise<string[]>>();
  private readonly defaultLanes = new Map<LlmModel, string>();
  /** Per LLM node with a fan-out annotation: pending answers by request (`callKey`). */
  private readonly fanOuts = new Map<number, Map<string, Promise<GenerateResult>>>();
  private failure: ((error: unknown) => void) | undefined;
  /** Per call node that started early: its answer per row (NO_CALL where it made none). */
  private readonly earlyCalls = new Map<number, Promise<unknown>[]>();
  /** Topological place per node id (placeOf), computed on first use. */
  private places: Map<number, number> | undefined;
  /** Set when the caller's signal aborted a run with onError "null": no new calls start. */
  private interrupted = false;
  private readonly steps: RowSteps;
  /** The first row's failure under onError "raise": no new call starts once it is set. */
  private rowError: RowError | undefined;
  /** Calls made and not settled yet (through the stores: settled means kept). */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly dag: PlanDag,
    private readonly ctx: ExecuteContext,
    private readonly host: RunHost,
    private readonly config: ProcessorConfig,
  ) {
    this.pool = host.toolPool(config);
    this.toolResults = !config.tools.cache ? NO_TOOL_CACHE : (host.toolResults ?? new Map());
    this.steps = new RowSteps(dag, ctx, {
      // A row failed (onError "raise"), or aborted but not interrupted: the caller aborted.
      stopping: () =>
        this.rowError ??
        (this.abort.signal.aborted && !this.interrupted ? this.abort.signal.reason : undefined),
      interrupted: () => this.interrupted,
      // The run rejects; the calls already running are let finish first (see run()).
      onRowError: (error) => {
        this.rowError ??= error;
        this.failure?.(error);
      },
    });
    // Every queued LLM request and tool call listens on the run's signal: thousands of rows
    // are expected, not a leak (Node warns past 10 listeners).
    setMaxListeners(0, this.abort.signal);
  }

  async run(): Promise<SinkResult[]> {
    const { ctx, dag } = this;
    const outer = ctx.signal;
    if (outer?.aborted && ctx.onError === "raise") throw abortError(outer);
    const onOuterAbort = () => {
      if (ctx.onError === "raise") return this.fail(abortError(outer));
      // Keep the rows: stop all calls (their slots settle as interrupted), reject nothing.
      this.interrupted = true;
      this.abort.abort(abortError(outer));
    };
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener("abort", onOuterAbort, { once: true });
    const failed = new Promise<never>((_, reject) => (this.failure = reject));
    failed.catch(() => {}); // observed through the race below; later failures are moot

    try {
      this.markReused();
      const sinks = Promise.all(dag.sinks.map((id) => this.tableOf(id)));
      const tables = await Promise.race([sinks, failed]);
      // A sink's rows are known only once its table is (row-by-row reports them the same way).
      dag.sinks.forEach((id, i) => this.meter(dag.nodes[id]!).addRows(tables[i]!.length));
      return dag.sinks.map((id, i) => finishSink(dag.nodes[id]!.columns, tables[i]!, ctx));
    } catch (error) {
      if (error === this.rowError) {
        await this.letRunningFinish(outer);
        this.steps.updateKept();
      }
      throw error;
    } finally {
      outer?.removeEventListener("abort", onOuterAbort);
      // Whatever still runs (after a failure) stops now: queued tools and LLM requests go.
      if (!this.abort.signal.aborted) this.abort.abort(new Error("run finished"));
      const finished = this.trace.finish();
      ctx.trace.tasks.push(...finished.tasks);
      if (this.migrations.size > 0) ctx.trace.kvMigration = this.migrationStats();
      const llmMs = llmMsByNode(finished.tasks);
      for (const id of topologicalOrder(dag)) {
        const meter = this.meters.get(id);
        if (!meter) continue;
        const stats = meter.stats();
        if (dag.nodes[id]!.kind === "LlmCall" && llmMs.has(id)) stats.llmMs = llmMs.get(id);
        const stored = this.steps.storedCalls(id);
        if (stored > 0) stats.storedCalls = stored;
        ctx.trace.nodes.push(stats);
      }
    }
  }

  /** Moves between workers in this run, all models together. */
  private migrationStats(): KvMigrationStats {
    const total = emptyMigrationStats();
    for (const stats of this.migrations.values()) {
      total.moves += stats.moves;
      total.movedTokens += stats.movedTokens;
      total.declined += stats.declined;
      total.declinedTokens += stats.declinedTokens;
    }
    return total;
  }

  private fail(error: unknown): void {
    if (!this.abort.signal.aborted) this.abort.abort(error);
    this.failure?.(error);
  }

  /** Nodes whose stored result stands in for them (and for everything only they need). */
  private markReused(): void {
    for (const [id, hit] of this.steps.reuseWalk().reused) {
      this.streams.set(id, Promise.resolve(hit.rows.map((r) => Promise.resolve(r))));
      this.meter(this.dag.nodes[id]!).addRows(hit.rows.length);
    }
  }

  private meter(node: PlanNode): NodeMeter {
    let m = this.meters.get(node.id);
    if (!m) {
      m = new NodeMeter(node.id, node.label, node.kind, () => this.trace.elapsedMs());
      this.meters.set(node.id, m);
    }
    return m;
  }

  private async tableOf(id: number): Promise<Row[]> {
    const rows = await Promise.all(await this.streamOf(id));
    return rows.filter((r): r is Row => r !== DROP);
  }

  private streamOf(id: number): Promise<Slot[]> {
    let stream = this.streams.get(id);
    if (!stream) {
      stream = this.makeStream(this.dag.nodes[id]!);
      this.streams.set(id, stream);
    }
    return stream;
  }

  private async makeStream(node: PlanNode): Promise<Slot[]> {
    const meter = this.meter(node);
    switch (node.kind) {
      case "Source":
        meter.addRows(node.args.data.rows.length);
        return node.args.data.rows.map((r) => Promise.resolve(r));
      case "Join": {
        const [left, right] = await Promise.all(node.inputs.map((i) => this.tableOf(i)));
        meter.start();
        const joined = joinRows(
          { columns: this.dag.nodes[node.inputs[0]!]!.columns, rows: left! },
          { columns: this.dag.nodes[node.inputs[1]!]!.columns, rows: right! },
          node.args,
        );
        meter.end();
        meter.addRows(joined.length);
        return joined.map((r) => Promise.resolve(r));
      }
      case "Sink":
      case "SinkMultiple":
        return this.streamOf(node.inputs[0]!);
      default: {
        const input = await this.streamOf(node.inputs[0]!);
        return this.perRow(node, input, await this.earlyInput(node, input));
      }
    }
  }

  /**
   * Per row, what a call that start-calls-early planned (`physical.early`) starts from: the base
   * node's row with the outputs of the calls it reads (each from that call's early start when it
   * has one, else from its row), or NO_CALL where the row's own step would make no call (a
   * failure upstream). The call nodes in between map rows one to one, so slot i is row i
   * everywhere. Not when a node in between came from the session store: the base node need not
   * run at all then, and starting it would redo work that reuse saved.
   */
  private async earlyInput(node: PlanNode, input: Slot[]): Promise<EarlySlot[] | undefined> {
    const plan = node.physical?.early;
    if (plan === undefined || !CALL_KINDS.has(node.kind)) return undefined;
    const reused = new Set(this.ctx.reused ?? []);
    for (let at = node.inputs[0]!; at !== plan.base; at = this.dag.nodes[at]!.inputs[0]!) {
      const up = this.dag.nodes[at];
      if (!up || reused.has(at) || up.inputs.length !== 1) return undefined;
    }
    const base = await this.streamOf(plan.base);
    if (base.length !== input.length) return undefined;
    const values = await Promise.all(plan.deps.map((id) => this.valuesOf(id, input.length)));
    if (values.some((v) => v === undefined)) return undefined;
    return base.map(async (slot, i) => {
      const row = await slot;
      if (row === DROP || hasError(row)) return NO_CALL;
      const answers = await Promise.all(values.map((v) => v![i]!.catch(() => NO_CALL)));
      if (answers.includes(NO_CALL)) return NO_CALL;
      // As the dependencies' own steps store their answers (undefined leaves null).
      return plan.deps.reduce<Row>(
        (out, id, k) => withAnswer(out, this.dag.nodes[id]!, answers[k] ?? null),
        row,
      );
    });
  }

  /** A call node's answer per row: its early start's, else its own row's output (NO_CALL if none). */
  private async valuesOf(id: number, rows: number): Promise<Promise<unknown>[] | undefined> {
    const early = this.earlyCalls.get(id);
    if (early) return early.length === rows ? early : undefined;
    const node = this.dag.nodes[id]!;
    const slots = await this.streamOf(id);
    if (slots.length !== rows) return undefined;
    return slots.map((slot) =>
      slot.then((row) => (row === DROP || hasError(row) ? NO_CALL : answerOf(row, node))),
    );
  }

  /**
   * One gate per input row, opened once every row has arrived, in group-shared-prefixes' order
   * when it planned one for this many rows (prompts sharing a prefix then reach the worker back
   * to back), else in row order.
   */
  private gatherGates(node: PlanNode, input: Promise<unknown>[]): Promise<void>[] {
    const planned = node.physical?.prefix;
    const order =
      planned && planned.inputRows === input.length && planned.order.length === input.length
        ? planned.order
        : input.map((_, i) => i);
    const open: (() => void)[] = [];
    const gates = input.map((_, i) => new Promise<void>((resolve) => (open[i] = resolve)));
    void Promise.allSettled(input).then(() => {
      for (const i of order) open[i]!();
    });
    return gates;
  }

  /**
   * Chains the node's step onto every input row; each row proceeds on its own. With `early` (the
   * rows of an upstream node that already hold what the call reads), the call starts from those
   * and the step only joins its answer to the input row when that arrives.
   */
  private perRow(node: PlanNode, input: Slot[], early?: EarlySlot[]): Slot[] {
    const meter = this.meter(node);
    const total = input.length;
    let done = 0;
    // plan-batches may ask an LLM node to gather its rows first (a CPU provider: nothing to
    // overlap, and one uniform batch per node beats a trickle of small mixed ones). A call that
    // starts early gathers the rows it starts from.
    const gather = node.kind === "LlmCall" && node.physical?.gather === true;
    const gates = gather ? this.gatherGates(node, early ?? input) : undefined;
    const ready = <T>(rows: Promise<T>[], index: number): Promise<T> =>
      gates ? gates[index]!.then(() => rows[index]!) : rows[index]!;
    const started = early?.map((_, index) => this.startEarly(node, ready(early, index), meter));
    if (started) this.earlyCalls.set(node.id, started);
    const slots = input.map((slot, index) =>
      (started ? slot : ready(input, index)).then(async (row) => {
        if (row === DROP) return DROP;
        const out = await this.step(node, row, index, total, meter, started?.[index]);
        done++;
        this.ctx.onProgress?.({
          nodeId: node.id,
          label: node.label,
          kind: node.kind,
          done,
          total,
          ...(node.kind === "LlmCall" && { tokens: meter.tokens() }),
          toolsInFlight: this.pool.running(),
        });
        if (out !== DROP) meter.addRows(1);
        return out;
      }),
    );
    // A failure is reported once through `fail`; the slots' own rejections are expected.
    for (const s of slots) s.catch(() => {});
    void Promise.all(slots).then(
      (rows) =>
        this.steps.keepTable(
          node,
          rows.filter((r): r is Row => r !== DROP),
        ),
      () => {},
    );
    return slots;
  }

  /**
   * The call of a node that starts early, from its early row: NO_CALL where the row's own step
   * would make no call (a failure upstream) or the run was interrupted meanwhile. Its failure is
   * reported by the step that awaits it, as if the call had started there.
   */
  private startEarly(node: PlanNode, slot: EarlySlot, meter: NodeMeter): Promise<unknown> {
    const call = slot.then((row) => {
      if (row === NO_CALL || this.interrupted || this.abort.signal.aborted) return NO_CALL;
      meter.start();
      return this.call(node, row, meter).finally(() => meter.end());
    });
    call.catch(() => {}); // awaited by the step, or moot when the row failed before it
    return call;
  }

  private async step(
    node: PlanNode,
    row: Row,
    index: number,
    total: number,
    meter: NodeMeter,
    early?: Promise<unknown>,
  ): Promise<Row | typeof DROP> {
    const left = this.steps.skip(node, row);
    if (left !== undefined) return left;
    meter.start();
    try {
      switch (node.kind) {
        case "Map": {
          const op = node.args.op;
          if (op.type === "select") return selectRow(row, op.columns);
          const out = checkMapResult(await op.fn(userRow(row)), node.label);
          return hasError(row) ? { ...out, [ERRORS_COLUMN]: row[ERRORS_COLUMN] } : { ...out };
        }
        case "Filter":
          return (await testPredicate(node.args.predicate, row)) ? row : DROP;
        default: {
          const answer = early === undefined ? NO_CALL : await early;
          // NO_CALL from an early start: an upstream row that had not failed yet when it made
          // no call (interrupted or aborted since); call now as the row's own step would.
          const value = answer === NO_CALL ? await this.call(node, row, meter) : answer;
          return withAnswer(row, node, value);
        }
      }
    } catch (error) {
      return this.steps.failed(node, row, index, total, error);
    } finally {
      meter.end();
    }
  }

  /** A call through the stores (row-steps.ts): a kept answer, else made and kept. */
  private call(node: PlanNode, row: Row, meter: NodeMeter): Promise<unknown> {
    const call = this.steps.call(node, row, (key) => this.makeCall(node, row, meter, key));
    this.running.add(call);
    void call.then(
      () => this.running.delete(call),
      () => this.running.delete(call),
    );
    return call;
  }

  /**
   * After a row failed under onError "raise": no new call starts, and the calls already running
   * (a gathered LLM batch is all of its rows at once) get up to KEEP_RUNNING_MS to finish, so
   * what they computed is kept and a rerun does not pay for it again. The caller's abort ends
   * the wait at once.
   */
  private async letRunningFinish(outer: AbortSignal | undefined): Promise<void> {
    if (this.running.size === 0 || outer?.aborted) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, KEEP_RUNNING_MS);
        onAbort = resolve;
        outer?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) outer?.removeEventListener("abort", onAbort);
  }

  private async makeCall(
    node: PlanNode,
    row: Row,
    meter: NodeMeter,
    key: string | undefined,
  ): Promise<unknown> {
    const signal = this.abort.signal;
    const { services } = this.ctx;
    const cache = node.volatility !== "volatile";
    const nodeIds = [node.id];
    switch (node.kind) {
      case "LlmCall": {
        // Equal requests share one answer only where the optimizer's dedupe-calls asked for it
        // (`physical.fanOut`, never on volatile calls), exactly as the row-by-row executor does:
        // sharing behind the plan's back would blur the optimizer's ablations.
        const shared = key === undefined ? undefined : this.fanOutOf(node);
        const pending = shared?.get(key!);
        if (pending) return llmValue(node.args, (await pending).text);
        const run = this.submitLlm(node, row);
        shared?.set(key!, run);
        const result = await run;
        // Counted once per call executed, after it succeeds (as row-by-row): rows served by a
        // shared answer are not calls.
        meter.addCall(result);
        return llmValue(node.args, result.text);
      }
      case "SqlCall": {
        const request = sqlRequest(node.args, row);
        return this.runTool(
          meter,
          {
            kind: "sql",
            name: node.label,
            priority: this.placeOf(node),
            args: request,
            fn: (r, c) => services.sql(r, c),
            cache,
            nodeIds,
          },
          { signal },
        );
      }
      case "HttpCall": {
        const request = httpRequest(node.args, row);
        // The HTTP tool retries and times out by itself (per its node's settings): the pool adds
        // no retries of its own, and its deadline only guards a tool that never returns.
        const budget = httpWorstCaseMs(request);
        return this.runTool(
          meter,
          {
            kind: "http",
            name: node.label,
            priority: this.placeOf(node),
            args: request,
            fn: (r, c) => services.http(r, c),
            cache,
            nodeIds,
            retries: 0,
            timeoutMs: budget,
          },
          { signal },
        );
      }
      case "FnCall": {
        const request = fnRequest(node.args, row);
        return this.runTool(
          meter,
          {
            kind: "function",
            name: node.label,
            priority: this.placeOf(node),
            args: request,
            fn: (r, c) => services.fn(r, c),
            // A function is identified by its key, not its closure (which JSON cannot see);
            // its arguments by the call key (canonicalJson: any depth, as row-by-row takes).
            signature: `fn\u0000${node.args.fnKey}\u0000${key ?? canonicalJson(request.args)}`,
            cache,
            nodeIds,
            retries: 0,
          },
          { signal },
        );
      }
      default:
        throw new Error(`pipeline: node kind ${node.kind} is not a call`);
    }
  }

  /** The node's place in a topological order of the plan: its tool calls' queue priority. */
  private placeOf(node: PlanNode): number {
    if (!this.places) this.places = new Map(topologicalOrder(this.dag).map((id, i) => [id, i]));
    return this.places.get(node.id) ?? 0;
  }

  private fanOutOf(node: PlanNode): Map<string, Promise<GenerateResult>> | undefined {
    if (!node.physical?.fanOut || node.volatility === "volatile") return undefined;
    let shared = this.fanOuts.get(node.id);
    if (!shared) {
      shared = new Map();
      this.fanOuts.set(node.id, shared);
    }
    return shared;
  }

  private async submitLlm(node: PlanNodeOf<"LlmCall">, row: Row): Promise<GenerateResult> {
    const args = node.args;
    const { worker, sink } = await this.submitterFor(node);
    const model = await this.ctx.services.loadModel(args.modelKey);
    const request = {
      promptTokens: model.encodeChat(llmMessages(args, row)),
      sampling: llmSampling(args),
    };
    return worker.submit(request, { signal: this.abort.signal, nodeIds: [node.id], sink });
  }

  /**
   * Runs a tool call through the pool. The pool's result cache (equal signatures within a run)
   * stays on whatever the plan says, as a Processor feature; a call answered from it was not
   * executed, so only the pool's misses count, once they succeed (as row-by-row counts).
   */
  private async runTool<A, R>(
    meter: NodeMeter,
    call: ToolCall<A, R>,
    options: { signal: AbortSignal },
  ): Promise<R> {
    const handle = await this.pool.submit(call, {
      ...options,
      trace: this.trace,
      cache: this.toolResults,
    });
    const value = await handle.result;
    if (!handle.cacheHit) meter.addCall();
    return value;
  }

  /**
   * The worker place-work put this node on (`physical.placement.lane`), or, in a plan without
   * placements, the model's one worker, with this run's sink on it. Each lane of a model is one
   * of the Processor's workers for that model (a model session and prefix cache of its own); a
   * model's workers share one KvExchange, so a prefix cached on one moves to another when the
   * cost model says that beats recomputing it. Keys that load one model object (a folder under
   * several names) are one model here: they share its lanes and sessions, as the plan placed them.
   */
  private submitterFor(
    node: PlanNodeOf<"LlmCall">,
  ): Promise<{ worker: LlmSubmitter; sink: RunSink }> {
    const modelKey = node.args.modelKey;
    const placed = node.physical?.placement?.lane;
    const key = `${placed ?? ""}\u0000${modelKey}`;
    let s = this.submitters.get(key);
    if (!s) {
      s = (async () => {
        const model = await this.ctx.services.loadModel(modelKey);
        const lane = placed ?? this.defaultLane(model);
        const lanes = await this.lanesOf(model);
        if (!lanes.includes(lane)) lanes.push(lane);
        let migration = this.migrations.get(model);
        if (!migration) this.migrations.set(model, (migration = emptyMigrationStats()));
        const sink: RunSink = {
          trace: this.trace,
          lane,
          laneOf: (r) => lanes[r] ?? `${modelKey}#${r}`,
          migration,
        };
        const replica = lanes.indexOf(lane);
        return { worker: await this.host.llmWorker(model, modelKey, replica, this.config), sink };
      })();
      this.submitters.set(key, s);
    }
    return s;
  }

  /** Without placements: one lane per model, numbered in the order models are first used. */
  private defaultLane(model: LlmModel): string {
    let lane = this.defaultLanes.get(model);
    if (!lane) {
      lane = `llm:${this.defaultLanes.size}`;
      this.defaultLanes.set(model, lane);
    }
    return lane;
  }

  /**
   * Which sessions of a model the lanes run on: a lane's replica is its position among the plan's
   * workers holding that model (`PlanReport.workers`, whose residents are model keys: any key that
   * loads this model object counts), so lanes map to replicas the same way in every run (and a
   * later collect finds the same caches); lanes the report does not list are added after.
   */
  private lanesOf(model: LlmModel): Promise<string[]> {
    let lanes = this.modelLanes.get(model);
    if (!lanes) {
      const workers = this.dag.nodes[this.dag.root]!.physical?.report?.workers ?? [];
      lanes = Promise.all(
        workers.map(async (w) =>
          w.resident === undefined
            ? undefined
            : await this.ctx.services.loadModel(w.resident).catch(() => undefined),
        ),
      ).then((models) => workers.filter((_, i) => models[i] === model).map((w) => w.lane));
      this.modelLanes.set(model, lanes);
    }
    return lanes;
  }
}
