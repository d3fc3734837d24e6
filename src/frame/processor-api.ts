// `halo.processor`: the session Processor's settings, as a user sees them. One object describes
// the machine for both the optimizer and the Processor (src/processor/config.ts): what is set
// here holds for every later collect, which may still override parts of it for itself
// (`collect({ processor: {...} })`).
import {
  MAX_WORKERS_PER_MODEL,
  type ProcessorConfig,
  type ProcessorSettings,
} from "../processor/config.ts";
import { loadModel, prepareModelSources, resolveModelKey } from "./models.ts";
import { session } from "./session.ts";

export const processorApi = {
  /** The settings every collect plans for and runs with (defaults follow this machine). */
  get config(): ProcessorConfig {
    return session.processor.config;
  },
  /**
   * Changes some settings for every later collect; the others keep their value. Checked at once:
   * an unknown name or a wrong value throws, naming it.
   * @example halo.processor.configure({ kv: { budgetBytes: 256 * 2 ** 20 }, llm: { workersPerModel: 2 } })
   */
  configure(settings: ProcessorSettings): ProcessorConfig {
    return session.processor.configure(settings);
  },
  /** Back to this machine's defaults. */
  reset(): ProcessorConfig {
    return session.processor.resetConfig();
  },
  /**
   * Loads a model (a registered name, a folder or a hub id; default the shipped model) and starts
   * its LLM workers, resolving once they can run. Each worker's model thread loads a session of its
   * own (about 6 s for a 135M-parameter fp32 model), which the first collect otherwise waits for;
   * that collect's trace then shows it as "model-load". `workers`: how many of its workers
   * (default: `llm.workersPerModel`). Names of one folder (and dtype) are one model: warming one
   * warms the workers all of them run on.
   * @example await halo.processor.warm("smollm")
   */
  async warm(model?: string, options: { workers?: number } = {}): Promise<void> {
    const key = resolveModelKey(model, "halo.processor.warm");
    const { workers } = options;
    const most = MAX_WORKERS_PER_MODEL;
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= most))
      throw new RangeError(
        `halo.processor.warm: workers must be an integer from 1 to ${most}, got ${String(workers)}`,
      );
    await prepareModelSources([key]);
    const config = session.processor.config;
    await session.processor.warm(await loadModel(key), key, config, workers);
  },
  /** Drops the LLM workers and their prefix KV caches: the next collect starts cold. */
  dropCaches(): void {
    session.processor.dropWorkers();
  },
};
