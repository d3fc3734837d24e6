import { test } from "uvu";
import * as assert from "uvu/assert";
import { MovingAverage } from "../../src/cost/moving-average.ts";

test("starts at the prior and converges to a steady measurement", () => {
  const avg = new MovingAverage(200, 1);
  assert.is(avg.value, 200);
  for (let i = 0; i < 60; i++) avg.observe(20);
  assert.ok(Math.abs(avg.value - 20) < 0.1, `value ${avg.value}`);
  assert.is(avg.count, 60);
});

test("the first observations move a weak prior most of the way", () => {
  const avg = new MovingAverage(200, 1);
  avg.observe(20);
  assert.is(avg.value, 110); // prior counts as one observation: mean of 200 and 20
});

test("follows drift instead of freezing on old runs", () => {
  const avg = new MovingAverage(10, 1, 0.2);
  for (let i = 0; i < 100; i++) avg.observe(10);
  for (let i = 0; i < 20; i++) avg.observe(50);
  assert.ok(avg.value > 49, `value ${avg.value}`);
});

test("non-finite measurements are ignored; the prior can be replaced before any", () => {
  const avg = new MovingAverage(5);
  avg.setPrior(7);
  assert.is(avg.value, 7);
  avg.observe(NaN);
  assert.is(avg.count, 0);
  avg.observe(9);
  avg.setPrior(100);
  assert.is(avg.value, 8);
  assert.throws(() => new MovingAverage(Infinity), /not finite/);
});

test.run();
