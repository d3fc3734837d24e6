import { test } from "uvu";
import * as assert from "uvu/assert";
import { BatchSizer } from "../../../src/processor/llm/batch-sizer.ts";

/** Drives the sizer with full batches whose step time follows `stepMs(batch)`. */
function settle(sizer: BatchSizer, stepMs: (b: number) => number, steps = 200): number[] {
  const limits: number[] = [];
  for (let i = 0; i < steps; i++) {
    const b = sizer.limit;
    sizer.observeStep(b, stepMs(b));
    limits.push(sizer.limit);
  }
  return limits;
}

test("grows while a doubled batch costs clearly less per sequence, up to the max", () => {
  // Per-call overhead dominates: 20 ms + 0.1 ms a sequence.
  const sizer = new BatchSizer({ initial: 1, max: 64 });
  settle(sizer, (b) => 20 + 0.1 * b);
  assert.is(sizer.limit, 64);
});

test("settles at the knee: doubling past it is tried, undone, and retried only after a cooldown", () => {
  // Flat 8 ms up to 16 sequences, then 0.5 ms a sequence plus a superlinear term.
  const cost = (b: number) => (b <= 16 ? 8 : 0.5 * b + 0.01 * b * b);
  const sizer = new BatchSizer({ initial: 2, cooldownSteps: 50 });
  const limits = settle(sizer, cost, 300);
  const tail = limits.slice(-100);
  assert.ok(tail.filter((l) => l === 16).length > 80, `mostly 16: ${tail.join(",")}`);
  assert.ok(tail.every((l) => l === 16 || l === 32));
});

test("a slow step halves at once; partial batches neither grow nor judge", () => {
  const sizer = new BatchSizer({ initial: 32, maxStepMs: 100 });
  sizer.observeStep(32, 400);
  assert.is(sizer.limit, 16);
  for (let i = 0; i < 5; i++) sizer.observeStep(3, 1);
  assert.is(sizer.limit, 16);
  assert.throws(() => new BatchSizer({ min: 0 }), /1 <= min <= max/);
});

test.run();
