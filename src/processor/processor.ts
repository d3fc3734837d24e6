// The Processor: one per session (a kernel, a `halo serve`, a script), built from one
// ProcessorConfig (config.ts). It owns what outlives a run: per model, the LLM workers (model
// sessions, prefix caches, host tiers) and the KV exchange between them; the tool pool, whose
// limits are the machine's whatever runs share it; and the session's CostModel, which plans every
// run and learns from every forward call as it happens. A run (pipeline-executor.ts) borrows them
// and records its part in its own trace. The optimizer plans with the same config and cost model
// (src/optimizer/context.ts), so what it predicts is what these workers do.
import { CostModel } from "../cost/cost-model.ts";
import { priorProfile } from "../cost/profile.ts";
import type { ExecuteContext, Executor, LlmModel, SinkResult } from "../executor/types.ts";
import type { PlanDag } from "../plan/types.ts";
import {
  applySettings,
  defaultConfig,
  thisMachine,
  workerShape,
  type Machine,
  type ProcessorConfig,
  type ProcessorSettings,
} from "./config.ts";
import type { LlmSubmitter } from "./llm/llm-submitter.ts";
import { ModelWorkers } from "./llm/model-workers.ts";
import { PipelineRun, type RunHost } from "./pipeline-executor.ts";
import { ToolPool, type ToolResultCache } from "./tools/tool-pool.ts";

export interface ProcessorOptions {
  /** Applied over the machine's defaults. */
  settings?: ProcessorSettings;
  /** Default: this machine, measured now. */
  machine?: Machine;
  /** Default: the prior profile of the shipped model, until calibration adds each model's. */
  cost?: CostModel;
  /** Tool results kept across runs (the server's bounded cache); default: each run its own. */
  toolResults?: ToolResultCache;
}

/**
 * Worker sets (and tool pools) kept for shapes other than the configured one: a run that
 * overrides the KV budget or the batch limits gets workers of that shape, kept for the next run
 * that asks for it, up to this many shapes (the oldest goes, with its caches).
 */
const KEPT_OVERRIDES = 2;

/** Values by shape: the configured shape's always kept, up to KEPT_OVERRIDES others by recency. */
class ShapeCache<V> {
  private readonly entries = new Map<string, V>();

  get(shape: string, configured: string, create: () => V): V {
    let v = this.entries.get(shape);
    if (v !== undefined) {
      this.entries.delete(shape);
      this.entries.set(shape, v);
      return v;
    }
    v = create();
    this.entries.set(shape, v);
    const others = [...this.entries.keys()].filter((k) => k !== configured);
    for (const old of others.slice(0, Math.max(0, others.length - KEPT_OVERRIDES)))
      this.entries.delete(old);
    return v;
  }
}

export class Processor implements Executor, RunHost {
  readonly name = "processor";
  /**
   * The session's cost model: the optimizer plans with it, KV moves are priced by it, and every
   * forward call the workers run refines it. Replaceable (a calibrated profile, a test's).
   */
  cost: CostModel;
  readonly toolResults: ToolResultCache | undefined;
  private readonly machine: Machine;
  private current: ProcessorConfig;
  /** Per loaded model (weakly: an unloaded model frees its workers), per worker shape. */
  private workers = new WeakMap<LlmModel, ShapeCache<ModelWorkers>>();
  private readonly pools = new ShapeCache<ToolPool>();

  constructor(options: ProcessorOptions = {}) {
    this.machine = options.machine ?? thisMachine();
    this.current = applySettings(defaultConfig(this.machine), options.settings, "Processor");
    // Before calibration the prior profile (measured ranges from the runtime notes) plans.
    this.cost = options.cost ?? new CostModel(priorProfile("shipped"));
    this.toolResults = options.toolResults;
  }

  /** The settings runs use unless they override some. */
  get config(): ProcessorConfig {
    return this.current;
  }

  /**
   * Changes settings for every later run (`halo.processor.configure`); unnamed ones keep their
   * value. Workers of another shape stay until a run asks for them or they are pushed out.
   */
  configure(settings: ProcessorSettings): ProcessorConfig {
    this.current = applySettings(this.current, settings, "halo.processor.configure");
    return this.current;
  }

  /** Back to this machine's defaults. */
  resetConfig(): ProcessorConfig {
    this.current = defaultConfig(this.machine);
    return this.current;
  }

  /** The config of one run: the session's with the run's overrides (`collect({ processor })`). */
  runConfig(settings: ProcessorSettings | undefined): ProcessorConfig {
    return applySettings(this.current, settings, "collect({ processor })");
  }

  /**
   * Drops every LLM worker, and with them the prefix caches: the next run starts cold (benchmarks
   * comparing systems in one process, a test that needs a cold cache).
   */
  dropWorkers(): void {
    this.workers = new WeakMap();
  }

  execute(dag: PlanDag, ctx: ExecuteContext): Promise<SinkResult[]> {
    return new PipelineRun(dag, ctx, this, ctx.config ?? this.current).run();
  }

  llmWorker(
    model: LlmModel,
    modelKey: string,
    replica: number,
    config: ProcessorConfig,
  ): Promise<LlmSubmitter> {
    return this.modelWorkers(model, modelKey, config).worker(replica);
  }

  /**
   * Starts `model`'s workers under `config` (default: the session's), `replicas` of them (default:
   * its workers per model), and resolves once they can run a forward. A model thread loads its own session (6 s for SmolLM2-135M's shape in fp32),
   * which the first run would otherwise wait for; runs start their models' workers themselves,
   * so this is for callers that want the load out of the way first (the bench, before timing).
   */
  async warm(
    model: LlmModel,
    modelKey: string,
    config: ProcessorConfig = this.current,
    replicas = config.llm.workersPerModel,
  ) {
    await this.modelWorkers(model, modelKey, config).warm(replicas);
  }

  /** `model`'s workers of `config`'s shape, made on first use. */
  private modelWorkers(model: LlmModel, modelKey: string, config: ProcessorConfig): ModelWorkers {
    let shapes = this.workers.get(model);
    if (!shapes) this.workers.set(model, (shapes = new ShapeCache()));
    return shapes.get(
      workerShape(config),
      workerShape(this.current),
      () => new ModelWorkers(model, modelKey, config, () => this.cost),
    );
  }

  toolPool(config: ProcessorConfig): ToolPool {
    const { limits, queueLimit, timeoutMs, retries } = config.tools;
    const shape = (c: ProcessorConfig) =>
      JSON.stringify([c.tools.limits, c.tools.queueLimit, c.tools.timeoutMs, c.tools.retries]);
    return this.pools.get(
      shape(config),
      shape(this.current),
      () => new ToolPool({ limits, queueLimit, timeoutMs, retries }),
    );
  }
}
