// An optimizer context for tests: its own cost model (the prior profile, with a KV size the test
// chooses), Processor settings over a fixed machine (a KV budget the test chooses), and the fake
// model's tokenizer, so predictions are exact and independent of this machine and of whatever
// the session learned.
import { CostModel } from "../../../src/cost/cost-model.ts";
import { priorProfile } from "../../../src/cost/profile.ts";
import { DP_STATE_BUDGET, type OptimizerContext } from "../../../src/optimizer/context.ts";
import {
  applySettings,
  defaultConfig,
  type ProcessorSettings,
} from "../../../src/processor/config.ts";
import type { WorkerSpec } from "../../../src/optimizer/physical.ts";
import { fakeModel, type FakeModel } from "../../frame/fixtures/fake-model.ts";

export interface TestContextOptions {
  models?: string[];
  kvBytesPerToken?: number;
  kvBudgetBytes?: number;
  workers?: WorkerSpec[];
  dpStateBudget?: number;
  loadMs?: number;
  /** The profiles' execution provider (default the prior's, "cpu"). */
  provider?: string;
  /** Further Processor settings (batch limits, tool limits). */
  processor?: ProcessorSettings;
  /** Keys of one model (a folder under several names): key -> the key its model goes by. */
  sameModel?: Record<string, string>;
}

/** A 2-core machine with 1 GiB free: the defaults the tests' numbers were worked out on. */
export const TEST_MACHINE = { cores: 2, freeBytes: 2 ** 30, totalBytes: 2 ** 32, provider: "cpu" };

export function testContext(options: TestContextOptions = {}): OptimizerContext & {
  model: FakeModel;
} {
  const models = options.models ?? ["fake"];
  const profiles = models.map((m) => {
    const p = priorProfile(m, {
      kvBytesPerToken: options.kvBytesPerToken ?? 16,
      ...(options.provider && { provider: options.provider }),
    });
    if (options.loadMs !== undefined) p.loadMs = options.loadMs;
    return p;
  });
  const model = fakeModel();
  return {
    model,
    cost: new CostModel(profiles),
    encode: (_key, messages) => model.encodeChat(messages),
    countTokens: () => undefined,
    priceOf: () => undefined,
    workers: options.workers,
    ...(options.sameModel && { modelOf: (key: string) => options.sameModel![key] ?? key }),
    processor: applySettings(
      applySettings(
        defaultConfig(TEST_MACHINE),
        { kv: { budgetBytes: options.kvBudgetBytes ?? 2 ** 24 } },
        "test",
      ),
      options.processor,
      "test",
    ),
    dpStateBudget: options.dpStateBudget ?? DP_STATE_BUDGET,
  };
}
