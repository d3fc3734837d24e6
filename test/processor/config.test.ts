// The ProcessorConfig: defaults that follow the machine, settings checked field by field with
// messages that name what is wrong, and the worker shape that decides which runs share workers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  applySettings,
  defaultConfig,
  workerShape,
  type Machine,
} from "../../src/processor/config.ts";
import { BATCH_SIZER_DEFAULTS } from "../../src/processor/llm/batch-sizer.ts";
import { ADMISSION_DEFAULTS } from "../../src/processor/llm/admission.ts";

const MIB = 2 ** 20;
const machine = (cores: number, freeMiB: number): Machine => ({
  cores,
  freeBytes: freeMiB * MIB,
  totalBytes: 4 * freeMiB * MIB,
  provider: "cpu",
});

test("defaults follow the machine: KV from free memory, CPU tools from cores", () => {
  const small = defaultConfig(machine(2, 1024));
  assert.is(small.kv.budgetBytes, 256 * MIB, "a quarter of free memory");
  assert.is(small.kv.hostBudgetBytes, small.kv.budgetBytes);
  assert.equal(small.tools.limits, { sql: 2, http: 16, function: 2 });
  const big = defaultConfig(machine(16, 64 * 1024));
  assert.is(big.kv.budgetBytes, 16 * 1024 * MIB);
  assert.equal(big.tools.limits, { sql: 16, http: 16, function: 16 });
  // A tiny machine still batches: the floor.
  assert.is(defaultConfig(machine(1, 100)).kv.budgetBytes, 64 * MIB);
  // The batch and admission defaults are the modules' own, written there once.
  assert.is(small.batch.initial, BATCH_SIZER_DEFAULTS.initial);
  assert.is(small.batch.deferSharedTokens, ADMISSION_DEFAULTS.deferSharedTokens);
});

test("settings apply over a base, section by section, and leave the base alone", () => {
  const base = defaultConfig(machine(2, 1024));
  const set = applySettings(
    base,
    { kv: { budgetBytes: 1000 }, tools: { limits: { http: 4 } }, llm: { workersPerModel: 3 } },
    "test",
  );
  assert.is(set.kv.budgetBytes, 1000);
  assert.is(set.kv.hostBudgetBytes, base.kv.hostBudgetBytes, "unnamed settings keep their value");
  assert.equal(set.tools.limits, { sql: 2, http: 4, function: 2 });
  assert.is(set.llm.workersPerModel, 3);
  assert.is(base.kv.budgetBytes, 256 * MIB);
  assert.is(base.tools.limits.http, 16);
  assert.is(applySettings(base, undefined, "test"), base);
});

test("a wrong setting throws, naming it, the value and what it takes", () => {
  const base = defaultConfig(machine(2, 1024));
  const cases: [unknown, RegExp][] = [
    [
      { kv: { budgetBytes: -1 } },
      /where\.kv\.budgetBytes: expected a number of bytes >= 0, got -1/,
    ],
    [{ kv: { budget: 1 } }, /where\.kv: unknown setting 'budget'; the settings are budgetBytes/],
    [{ gpu: {} }, /where: unknown section 'gpu'; the sections are kv, batch, llm, tools/],
    [
      { llm: { workersPerModel: 9 } },
      /llm\.workersPerModel: expected an integer from 1 to 8, got 9/,
    ],
    [{ tools: { limits: { smtp: 1 } } }, /tools\.limits: unknown tool kind 'smtp'/],
    [{ tools: { limits: { sql: 0 } } }, /tools\.limits\.sql: expected an integer from 1 up, got 0/],
    [{ kv: { prefixCache: "no" } }, /kv\.prefixCache: expected true or false, got "no"/],
    [{ batch: { min: 8, initial: 4 } }, /where\.batch: needs min <= initial <= max/],
    ["fast", /where: expected an object such as/],
    [{ machine: { cores: 64 } }, /unknown section 'machine'/],
  ];
  for (const [settings, message] of cases)
    assert.throws(() => applySettings(base, settings as never, "where"), message);
});

test("the worker shape: KV, batching and admission settings, not tool limits or worker counts", () => {
  const base = defaultConfig(machine(2, 1024));
  const shape = workerShape(base);
  assert.is(workerShape(applySettings(base, { tools: { limits: { http: 2 } } }, "t")), shape);
  assert.is(workerShape(applySettings(base, { llm: { workersPerModel: 2 } }, "t")), shape);
  assert.is.not(workerShape(applySettings(base, { kv: { budgetBytes: 1 } }, "t")), shape);
  assert.is.not(workerShape(applySettings(base, { batch: { max: 64 } }, "t")), shape);
  assert.is.not(
    workerShape(applySettings(base, { llm: { continuousBatching: false } }, "t")),
    shape,
  );
});

test.run();
