import { test } from "uvu";
import * as assert from "uvu/assert";
import { BatchSizer } from "../../src/processor/batch-sizer.ts";

/** Drives the sizer with full batches whose step time follows `stepMs(batch)`. */
function settle(sizer: BatchSizer, stepMs: (b: number) => number, steps = 60): number[] {
  const limits: number[] = [];
  for (let i = 0; i < steps; i++) {
    const b = sizer.limit;
    sizer.observeStep(b, stepMs(b));
    limits.push(sizer.limit);
  }
  return limits;
}

test("grows while bigger batches are cheaper per sequence, up to the max", () => {
  // Per-call overhead dominates (the shipped model's shape): 2 ms + 0.05 ms a sequence.
  const sizer = new BatchSizer({ initial: 1, max: 64 });
  const limits = settle(sizer, (b) => 2 + 0.05 * b);
  assert.is(sizer.limit, 64);
  assert.ok(limits.indexOf(64) > 0);
});

test("stops at the knee where per-sequence time stops falling", () => {
  // Flat 8 ms up to 16 sequences, then linear: 16 is the knee.
  const sizer = new BatchSizer({ initial: 2, max: 256 });
  settle(sizer, (b) => (b <= 16 ? 8 : 0.5 * b));
  assert.ok(sizer.limit === 16 || sizer.limit === 32, `settled at ${sizer.limit}`);
  const tail = settle(sizer, (b) => (b <= 16 ? 8 : 0.5 * b), 20);
  assert.ok(tail.every((l) => l <= 32));
});

test("halves when a step exceeds maxStepMs, and ignores partial batches", () => {
  const sizer = new BatchSizer({ initial: 32, maxStepMs: 100 });
  sizer.observeStep(32, 400);
  assert.is(sizer.limit, 16);
  sizer.observeStep(3, 1000); // a quiet moment says nothing about the limit
  assert.is(sizer.limit, 16);
  assert.throws(() => new BatchSizer({ min: 0 }), /1 <= min <= max/);
});

test.run();
