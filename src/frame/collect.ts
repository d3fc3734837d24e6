// collect() and collectAll(): lower the frames into one PlanDag, validate, optimize in the
// session Processor's context (its cost model and settings, with the run's overrides), run on
// that Processor (or the row-by-row reference executor) through the session's and the disk's
// kept call results, and keep the report.
import { RunCalls } from "../executor/call-store.ts";
import { weightsIdentity } from "../executor/model-identity.ts";
import {
  diskResultStore,
  resultCacheSettings,
  type ResultCacheMode,
} from "../executor/disk-result-store.ts";
import { INTERRUPTED_MESSAGE } from "../executor/row-ops.ts";
import { RowByRowExecutor } from "../executor/row-by-row.ts";
import {
  ERRORS_COLUMN,
  RowError,
  type Executor,
  type ExecutorServices,
  type OnError,
  type ProgressEvent,
  type SinkResult,
} from "../executor/types.ts";
import { columnTypes } from "../plan/column-types.ts";
import { explain } from "../plan/explain.ts";
import type { LogicalNode } from "../plan/logical.ts";
import { lower, type LowerOptions } from "../plan/lower.ts";
import { PASS_NAMES, resolveFlags, type OptimizationFlags } from "../plan/optimize.ts";
import {
  analyze,
  optimize,
  optimizerContext,
  prepareOptimizer,
  type OptimizerContext,
} from "../optimizer/index.ts";
import type { PlanDag } from "../plan/types.ts";
import type { ProcessorConfig, ProcessorSettings } from "../processor/config.ts";
import type { Processor } from "../processor/processor.ts";
import { validateDag } from "../plan/validate.ts";
import type { RunTrace } from "../processor/trace/trace.ts";
import { currentSignal } from "../cancel.ts";
import { getDatabase } from "../tools/databases.ts";
import { functionTool } from "../tools/function.ts";
import { httpTool } from "../tools/http.ts";
import { sqlTool } from "../tools/sql.ts";
import { calibrationEnabled, prepareCostModel } from "./cost-profiles.ts";
import {
  loadModel,
  modelIdentity,
  modelKeysOf,
  modelSourceOf,
  prepareModelSources,
} from "./models.ts";
import { startCollectProgress } from "./collect-progress.ts";
import { BudgetMeter, checkBudget, refuseOverBudget, type Budget } from "./budget.ts";
import { planEstimate, type PlanEstimate } from "./plan-estimate.ts";
import { recordRunCosts } from "./run-costs.ts";
import { makeRunReport, type RunReport } from "./run-report.ts";
import { session } from "./session.ts";
import { checkSpec, describe } from "./verbs/check.ts";

export interface CollectOptions {
  /** Stops the run; default: the running cell's signal in the kernel (src/cancel.ts). */
  signal?: AbortSignal;
  /** "raise" (default): the first failing row stops the run. "null": null outputs, error in `_errors`. */
  onError?: OnError;
  /** A boolean per optimizer pass; `halo.optimizations.none()` turns all off. */
  optimizations?: Partial<OptimizationFlags>;
  onProgress?: (event: ProgressEvent) => void;
  /** "processor" (default): the session's Processor. "row-by-row": the reference executor. */
  executor?: "processor" | "row-by-row";
  /**
   * Reuse results of earlier collects (default true): whole node tables and single calls kept
   * in this session, and calls kept on disk (`resultCache`). false: compute everything and keep
   * nothing.
   */
  reuse?: boolean;
  /**
   * The disk tier of kept call results (`$HALO_CACHE_DIR/results`): "on" (default: read and
   * write), "read" (use what is there, add nothing), "write" (recompute, then replace), "off".
   * `HALO_RESULT_CACHE` sets the default; `HALO_RESULT_CACHE=off` turns it off for the process.
   */
  resultCache?: ResultCacheMode;
  /** Show progress (default: in a notebook or on a terminal, not in logs). */
  progress?: boolean;
  /**
   * Plan with each model's calibrated profile, measuring it the first time a model is used on
   * this machine (default true; HALO_CALIBRATE=0 turns it off). Off: the prior profile plans.
   */
  calibrate?: boolean;
  /**
   * Processor settings for this run only, over the session's (`halo.processor.configure`): the
   * KV budget, batch limits, workers per model, tool limits, feature switches
   * (docs/processor.md). The optimizer plans with the same settings the Processor runs with.
   */
  processor?: ProcessorSettings;
  /**
   * Limits on what the run may spend: `seconds` of execution, `tokens` (prompt plus generated),
   * `usd` (at the models' prices, `halo.openai({ price })`). A run whose estimate exceeds one is
   * refused before anything runs; a run that goes over one is stopped, keeping every finished
   * call. Either way a BudgetError says what and why (src/frame/budget.ts).
   */
  budget?: Budget;
}

const OPTIONS = [
  "signal",
  "onError",
  "optimizations",
  "onProgress",
  "executor",
  "reuse",
  "progress",
  "calibrate",
  "processor",
  "resultCache",
  "budget",
] as const;
const RESULT_CACHE_MODES: readonly ResultCacheMode[] = ["on", "off", "read", "write"];

export const defaultServices: ExecutorServices = {
  loadModel,
  sql: (request, context) => sqlTool.call(request, context),
  http: (request, context) => httpTool.call(request, context),
  fn: (request, context) => functionTool.call(request, context),
};

const lowerOptions: LowerOptions = {
  dbStateKey: (key) => getDatabase(key).stateKey(),
  modelStateKey: modelIdentity,
};

/**
 * Lowers and validates; with `optimized`, also runs the optimizer for the session's Processor,
 * and its analyses (batch sizes, the schedule): what `explain()` shows.
 */
export function planFor(
  nodes: LogicalNode[],
  optimizations?: Partial<OptimizationFlags>,
  optimized = true,
): { dag: PlanDag; plannerMs: number } {
  const dag = lower(nodes, lowerOptions);
  validateDag(dag);
  if (!optimized) return { dag, plannerMs: 0 };
  const { cost, config } = session.processor;
  const ctx = optimizerContext(cost, config, dag, keptTables(true));
  const result = optimizeChecked(dag, resolveFlags(optimizations), ctx);
  return { ...result, dag: analyze(result.dag, ctx) };
}

/** The session's kept node tables as the optimizer asks for them (none when reuse is off). */
function keptTables(reuse: boolean): ((signature: string) => boolean) | undefined {
  return reuse ? (signature) => session.store.get(signature) !== undefined : undefined;
}

function optimizeChecked(
  dag: PlanDag,
  flags: OptimizationFlags,
  ctx: OptimizerContext,
): { dag: PlanDag; plannerMs: number } {
  const result = optimize(dag, flags, ctx);
  validateDag(result.dag);
  return result;
}

/** A plan made for a run (collect) or for its estimate: the same steps, the same context. */
interface RunPlan {
  /** The optimized plan. */
  dag: PlanDag;
  plannerMs: number;
  /** The plan before the passes, and the context they ran in (a budget's "what would help"). */
  lowered: PlanDag;
  ctx: OptimizerContext;
  flags: OptimizationFlags;
  services: ExecutorServices;
  processor: Processor;
  config: ProcessorConfig;
  signal: AbortSignal | undefined;
}

/**
 * Checks the options, then plans as a run does: models the plan names are resolved and loaded
 * first (so the optimizer tokenizes exactly), each model's profile calibrated, the passes run in
 * the Processor's context for this run with the session's kept tables. collect() runs the
 * result; estimate() only reads it.
 */
async function planRun(
  nodes: LogicalNode[],
  options: CollectOptions,
  hooks: RunHooks,
): Promise<RunPlan> {
  const services = hooks.services ?? defaultServices;
  checkOptions(options);
  const signal = options.signal ?? currentSignal();
  const processor = hooks.processor ?? session.processor;
  const config = processor.runConfig(options.processor);
  // Models first: a hub id is downloaded (or found in the cache) once, and its commit and dtype
  // join the LLM nodes' signatures.
  await prepareModelSources(modelKeysOf(nodes), signal);
  const lowered = lower(nodes, lowerOptions);
  validateDag(lowered);
  const flags = resolveFlags(options.optimizations);
  if (PASS_NAMES.some((name) => flags[name])) {
    // Calibrate before loading: a calibration measured beside a model load would be slow.
    if (calibrationEnabled(options.calibrate)) await prepareCostModel(lowered, processor.cost);
    await prepareOptimizer(lowered, services.loadModel);
  }
  const ctx = optimizerContext(
    processor.cost,
    config,
    lowered,
    keptTables(options.reuse !== false),
  );
  const { dag, plannerMs } = optimizeChecked(lowered, flags, ctx);
  return { dag, plannerMs, lowered, ctx, flags, services, processor, config, signal };
}

/** Options a user may get wrong, each refused naming the option and the value. */
function checkOptions(options: CollectOptions): void {
  const s = checkSpec("collect(options)", options, OPTIONS, []);
  if (s.onError !== undefined && s.onError !== "raise" && s.onError !== "null")
    throw new TypeError(`collect: onError must be "raise" or "null", got ${describe(s.onError)}`);
  if (s.calibrate !== undefined && typeof s.calibrate !== "boolean")
    throw new TypeError(`collect: calibrate must be true or false, got ${describe(s.calibrate)}`);
  if (s.executor !== undefined && s.executor !== "processor" && s.executor !== "row-by-row")
    throw new TypeError(
      `collect: executor must be "processor" or "row-by-row", got ${describe(s.executor)}`,
    );
  if (s.resultCache !== undefined && !RESULT_CACHE_MODES.includes(s.resultCache as ResultCacheMode))
    throw new TypeError(
      `collect: resultCache must be "on", "off", "read" or "write", got ${describe(s.resultCache)}`,
    );
  if (s.budget !== undefined) checkBudget(s.budget);
}

/** A dollar budget on a plan none of whose models has a price would never stop anything. */
function checkPriced(dag: PlanDag, ctx: OptimizerContext): void {
  const models = dag.nodes.flatMap((n) => (n.kind === "LlmCall" ? [n.args.modelKey] : []));
  if (models.length > 0 && !models.some((m) => ctx.priceOf(m)))
    throw new TypeError(
      `collect: budget.usd needs a price on a model of the plan (${[...new Set(models)].join(", ")} has none): register it as halo.openai({ ..., price: { inputPer1M, outputPer1M } })`,
    );
}

/**
 * What collecting these plans would cost, planned exactly as collect() plans them, with nothing
 * run: no LLM call, no tool call (models are loaded and, the first time, calibrated).
 */
export async function estimatePlans(
  nodes: LogicalNode[],
  options: CollectOptions = {},
  hooks: RunHooks = {},
): Promise<PlanEstimate> {
  const plan = await planRun(nodes, options, hooks);
  return planEstimate(analyze(plan.dag, plan.ctx));
}

export async function collectPlans(
  nodes: LogicalNode[],
  options: CollectOptions = {},
  services: ExecutorServices = defaultServices,
): Promise<SinkResult[]> {
  return runPlans(nodes, options, {
    services,
    onReport: (report) => (session.lastRun = report),
  });
}

/** What a caller other than collect() (the server) may change about a run. */
export interface RunHooks {
  services?: ExecutorServices;
  /** The Processor to plan for and run on (the server's); default the session's. */
  processor?: Processor;
  /** Gets the run's report, also when the run failed (collect() keeps it as `halo.lastRun`). */
  onReport?: (report: RunReport) => void;
}

/** collect() without the session: plans, runs, and hands the report to `hooks.onReport`. */
export async function runPlans(
  nodes: LogicalNode[],
  options: CollectOptions = {},
  hooks: RunHooks = {},
): Promise<SinkResult[]> {
  const plan = await planRun(nodes, options, hooks);
  const { dag, plannerMs, services, processor, config, signal } = plan;
  const onError = options.onError ?? "raise";
  const budget = options.budget === undefined ? undefined : checkBudget(options.budget);
  if (budget?.usd !== undefined) checkPriced(dag, plan.ctx);
  if (budget)
    refuseOverBudget(planEstimate(analyze(dag, plan.ctx)), budget, plan.flags, () =>
      planEstimate(
        analyze(optimizeChecked(plan.lowered, resolveFlags(undefined), plan.ctx).dag, plan.ctx),
      ),
    );
  const calls = options.reuse === false ? undefined : runCalls(services, options.resultCache);
  const executor: Executor = options.executor === "row-by-row" ? new RowByRowExecutor() : processor;
  const trace: RunTrace = {
    startedAt: new Date().toISOString(),
    wallMs: 0,
    tasks: [],
    nodes: [],
    plannerMs,
    plan: explain(dag, { report: true }),
  };
  const reused: number[] = [];
  const progress = await startCollectProgress(options.progress, "collect");
  // The budget stops the run through its signal, as an interrupt would.
  const meter = budget ? new BudgetMeter(budget, dag, plan.ctx.priceOf) : undefined;
  const runSignal = !meter
    ? signal
    : signal
      ? AbortSignal.any([signal, meter.signal])
      : meter.signal;
  const onProgress = (event: ProgressEvent) => {
    if (meter) {
      meter.onProgress(event);
      progress.setBudget(meter.line());
    }
    progress.onProgress(event);
    options.onProgress?.(event);
  };
  if (meter) progress.setBudget(meter.line());
  const started = performance.now();
  let results: SinkResult[] | undefined;
  // Read as the executor returns: an abort after that did not cancel anything.
  let cancelled = false;
  try {
    results = await executor.execute(dag, {
      signal: runSignal,
      onError,
      onProgress,
      trace,
      services,
      store: options.reuse === false ? undefined : session.store,
      calls,
      reused,
      config,
    });
    cancelled = signal?.aborted === true;
    if (meter?.stopped) throw meter.stopped;
    for (const [i, r] of results.entries()) r.dtypes = columnTypes(dag, dag.sinks[i]!);
    return results;
  } catch (err) {
    cancelled = signal?.aborted === true;
    const stop = meter?.stopped;
    if (stop) {
      stop.message += `; ${calls ? `${calls.counts.kept} calls finished and were kept, so a rerun (with a larger budget) makes only the missing calls` : "nothing was kept (collect({ reuse: false }))"}`;
      throw stop;
    }
    if (err instanceof RowError && onError === "raise")
      err.message += `\n(pass collect({ onError: "null" }) to keep going: failed rows get null outputs and the error in _errors)`;
    throw err;
  } finally {
    meter?.close();
    trace.wallMs = performance.now() - started;
    const tokens = { prefill: 0, cached: 0, decode: 0 };
    for (const n of trace.nodes) {
      tokens.prefill += n.prefillTokens;
      tokens.cached += n.cachedTokens;
      tokens.decode += n.decodeTokens;
    }
    if (meter) progress.setBudget(meter.line());
    progress.finish(
      meter?.stopped ? "over budget" : cancelled ? "cancelled" : results ? "done" : "failed",
      tokens,
    );
    const cost = processor.cost;
    // Bookkeeping must never hide the run's own outcome (its rows or its real error).
    let estimateError: number | undefined;
    try {
      estimateError = recordRunCosts(dag, trace, cost, reused);
    } catch (err) {
      process.stderr.write(`halo: could not record estimated vs measured costs: ${String(err)}\n`);
    }
    hooks.onReport?.(
      makeRunReport(
        trace,
        executor.name,
        reused,
        results?.map((r) => r.rows.length) ?? [],
        estimateError,
        {
          cancelled,
          interruptedRows: countInterrupted(results),
          calls: calls?.counts ?? { session: 0, disk: 0, kept: 0 },
          ...(meter && {
            budget: {
              limits: meter.budget,
              spent: meter.spent(),
              stopped: meter.stopped !== undefined,
            },
          }),
        },
        results?.map((r) => r.dtypes ?? {}),
      ),
    );
  }
}

/**
 * The run's view of the kept call results: the session's memory, and the disk store unless
 * HALO_RESULT_CACHE=off (which wins over the option) or the option says otherwise.
 */
function runCalls(services: ExecutorServices, option: ResultCacheMode | undefined): RunCalls {
  const settings = resultCacheSettings();
  const mode = settings.mode === "off" ? "off" : (option ?? settings.mode);
  return new RunCalls({
    session: session.calls,
    disk: mode === "off" ? undefined : diskResultStore(settings),
    readDisk: mode === "on" || mode === "read",
    writeDisk: mode === "on" || mode === "write",
    loadModel: services.loadModel,
    modelIdentity: async (key) =>
      weightsIdentity(await services.loadModel(key), await modelSourceOf(key)),
  });
}

/** Rows a cancelled run with onError "null" left unfinished (their `_errors` say so). */
function countInterrupted(results: SinkResult[] | undefined): number {
  let n = 0;
  for (const r of results ?? [])
    for (const row of r.rows)
      if (String(row[ERRORS_COLUMN] ?? "").includes(INTERRUPTED_MESSAGE)) n++;
  return n;
}

type DanfoModule = typeof import("danfojs-node");
let danfo: Promise<DanfoModule> | undefined;

/** danfo's dtype for a schema type ("integer|null" too: danfo keeps the nulls). */
const DANFO_DTYPES: Record<string, string> = {
  integer: "int32",
  number: "float32",
  boolean: "boolean",
  string: "string",
};

/**
 * A danfo DataFrame from a result (columns in plan order; cells kept as they are). Columns the
 * plan types (a schema's) get their dtype from it, so an all-integer `number` column is still
 * float32 and an all-null one still has its type; arrays and objects stay JS values.
 */
export async function toDanfo(result: SinkResult): Promise<InstanceType<DanfoModule["DataFrame"]>> {
  danfo ??= import("danfojs-node");
  const dfd = await danfo;
  const values = result.rows.map((r) =>
    result.columns.map((c) => (r[c] === undefined ? null : r[c])),
  );
  const typed = result.columns.map((c) => {
    const t = result.dtypes?.[c]?.replace(/\|null$/, "");
    return t === undefined ? undefined : DANFO_DTYPES[t];
  });
  const df = new dfd.DataFrame(values, { columns: result.columns });
  if (values.length === 0 || typed.every((t, i) => t === undefined || t === df.dtypes[i]))
    return df;
  const dtypes = typed.map((t, i) => t ?? df.dtypes[i]!);
  return new dfd.DataFrame(values, { columns: result.columns, dtypes });
}
