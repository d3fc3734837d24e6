// An optimizer context for tests: its own cost model (the prior profile, with a KV size and
// budget the test chooses) and the fake model's tokenizer, so predictions are exact and
// independent of whatever the session learned.
import { CostModel } from "../../../src/cost/cost-model.ts";
import { priorProfile } from "../../../src/cost/profile.ts";
import type { OptimizerContext } from "../../../src/optimizer/context.ts";
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
}

export function testContext(options: TestContextOptions = {}): OptimizerContext & {
  model: FakeModel;
} {
  const models = options.models ?? ["fake"];
  const profiles = models.map((m) => {
    const p = priorProfile(m, {
      kvBytesPerToken: options.kvBytesPerToken ?? 16,
      kvBudgetBytes: options.kvBudgetBytes ?? 2 ** 24,
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
    workers: options.workers,
    toolConcurrency: { sql: 2, http: 16, function: 2 },
    dpStateBudget: options.dpStateBudget ?? 30_000,
  };
}
