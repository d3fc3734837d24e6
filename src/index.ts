// The public entry point: `import { halo } from "halo"`. Importing is cheap on purpose (the
// kernel loads it lazily): DuckDB opens on the first query, models load on the first LLM call.
// danfo is imported because its DataFrame gains the plan verbs (df.agent(...)).
import { installDataFrameVerbs } from "./frame/danfo-verbs.ts";
// collect() runs on the session's Processor (src/frame/session.ts); "row-by-row" stays available
// as the reference (`collect({ executor: "row-by-row" })`).
import { processorApi } from "./frame/processor-api.ts";
import { collectAll, estimateAll, LazyFrame } from "./frame/lazy-frame.ts";
import { models } from "./frame/models.ts";
import { session } from "./frame/session.ts";
import { diskResultStore, resultCacheSettings } from "./executor/disk-result-store.ts";
import { workflow } from "./frame/workflow.ts";
import { BudgetError } from "./frame/budget.ts";
import { createOpenAiModel } from "./runtime/openai-model.ts";
import { col, lit } from "./plan/expr.ts";
import { optimizations } from "./plan/optimize.ts";
import { connectDatabase, defaultDatabase } from "./tools/databases.ts";
import type { DuckDb } from "./tools/duckdb.ts";
import type { RunReport } from "./frame/run-report.ts";

installDataFrameVerbs();

export const halo = {
  /** A LazyFrame over a danfo DataFrame, an apache-arrow Table or an array of row objects. */
  lazy: (source: unknown): LazyFrame => LazyFrame.from(source),
  /** Collects several frames as one plan; shared work runs once. */
  collectAll,
  /** What collectAll of these frames would cost, with nothing run (a PlanEstimate). */
  estimateAll,
  /** Thrown by `collect({ budget })`: refused before the run, or stopped during it. */
  BudgetError,
  /** A workflow graph from YAML text or a file path; `.run(df)` gives a LazyFrame. */
  workflow,
  /** Model names: `halo.models.register(name, folderOrHubId, { dtype?, revision? })`. */
  models,
  /** A model served by OpenAI-compatible engines: `models.register("remote", halo.openai({...}))`. */
  openai: createOpenAiModel,
  /** The embedded DuckDB (opened on first use). */
  get db(): DuckDb {
    return defaultDatabase();
  },
  /** A PostgreSQL database by URL, for `.sql({ db })`. */
  connect: connectDatabase,
  /** A column reference for analysable predicates: `halo.col("label").eq("negative")`. */
  col,
  lit,
  /** Presets for `collect({ optimizations })`. */
  optimizations,
  /** The Processor's settings: `halo.processor.configure({ kv: { budgetBytes } })`, `.config`. */
  processor: processorApi,
  /** What the last collect did: plan, per-node timings, tokens, calls. */
  get lastRun(): RunReport | undefined {
    return session.lastRun;
  },
  /**
   * Forget results kept for reuse across collects in this session; with `{ disk: true }` also
   * the call results on disk (`halo cache clear` does that from a shell).
   */
  clearCache(options: { disk?: boolean } = {}): void {
    session.store.clear();
    session.calls.clear();
    if (options.disk) diskResultStore(resultCacheSettings()).clear();
  },
};

export { LazyFrame, collectAll, estimateAll };
export { BudgetError };
export type { Budget } from "./frame/budget.ts";
export type { PlanEstimate, NodeCostEstimate } from "./frame/plan-estimate.ts";
export type { ModelPrice } from "./cost/price.ts";
export { planGraph } from "./plan/graph.ts";
export { explain } from "./plan/explain.ts";
export { lower } from "./plan/lower.ts";
export { validateDag } from "./plan/validate.ts";
export { RowByRowExecutor } from "./executor/row-by-row.ts";
export { Expr } from "./plan/expr.ts";
export type { PlanGraph, PlanGraphNode } from "./plan/graph.ts";
export type { PlanDag, PlanNode, NodeKind, Row, Volatility } from "./plan/types.ts";
export type { OptimizationFlags } from "./plan/optimize.ts";
export type { ProcessorConfig, ProcessorSettings } from "./processor/config.ts";
export type { CollectOptions } from "./frame/collect.ts";
export type { AgentSpec } from "./frame/verbs/agent.ts";
export type { SqlSpec } from "./frame/verbs/sql.ts";
export type { HttpSpec } from "./frame/verbs/http.ts";
export type { ToolSpec } from "./frame/verbs/tool.ts";
export type { JoinOptions, MapOptions } from "./frame/verbs/relational.ts";
export type {
  Executor,
  ExecuteContext,
  ExecutorServices,
  LlmModel,
  SinkResult,
  ProgressEvent,
} from "./executor/types.ts";
export type { RunReport } from "./frame/run-report.ts";
export type { Workflow } from "./frame/workflow.ts";
