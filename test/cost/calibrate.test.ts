import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { performance } from "node:perf_hooks";
import { calibrate } from "../../src/cost/calibrate.ts";
import { CostModel } from "../../src/cost/cost-model.ts";
import { median, relativeError } from "../../src/cost/fit.ts";
import { openOnnxTarget } from "../../src/cost/onnx-bench-target.ts";
import type { BenchTarget } from "../../src/cost/bench-target.ts";
import { calibrationModelDir } from "./model-dir.ts";

async function medianMs(fn: () => Promise<void>, repeats = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

// One calibration and a check on shapes outside its grid; returns the failure, if any, so the
// test can try once more: at load 10-17 on 2 shared cores (seen while other suites ran) a whole
// attempt can land in someone else's burst.
async function attempt(target: BenchTarget): Promise<string | undefined> {
  try {
    const t0 = performance.now();
    const profile = await calibrate(target);
    console.log(`measure: calibration took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const { prefill, decode } = profile;
    for (const [name, v] of Object.entries({ ...prefill, ...decode })) {
      assert.ok(v >= 0 && Number.isFinite(v), `${name} = ${v}`);
    }
    // Some constant of each formula carries the cost; NNLS may pin others at 0 when load
    // disturbs the small points (d_0 was 0 once at load 15), so only "not all zero" is asserted.
    assert.ok(prefill.callMs + prefill.tokenMs + prefill.attentionMs > 0, "prefill all zero");
    assert.ok(decode.stepMs + decode.rowMs + decode.kvMs > 0, "decode all zero");
    assert.ok(profile.kvBytesPerToken > 0 && profile.loadMs > 0 && profile.kvMove.bytesPerMs > 0);
    const grow = profile.warmup.msPerMiB;
    assert.ok(grow >= 0 && Number.isFinite(grow), `warm-up ${grow} ms/MiB`);
    console.log(`measure: warm-up ${grow.toFixed(2)} ms per MiB of footprint growth`);
    console.log(
      `measure: fit median error prefill ${(100 * profile.fit.prefill.medianRelError).toFixed(0)}%, decode ${(100 * profile.fit.decode.medianRelError).toFixed(0)}%`,
    );

    // Shapes the grid did not contain.
    const cost = new CostModel(profile);
    const errors: number[] = [];
    const lines: string[] = [];
    for (const [b, l, p] of [
      [2, 64, 128],
      [8, 16, 0],
      [1, 200, 0],
      [2, 16, 300],
    ] as const) {
      const rows = Array.from({ length: b }, () => ({ newTokens: l, cachedTokens: p }));
      const measured = await medianMs(() => target.prefill(rows));
      const predicted = cost.prefillMs(rows);
      errors.push(relativeError(predicted, measured));
      lines.push(`prefill ${b}x${l}+${p}: ${predicted.toFixed(2)} vs ${measured.toFixed(2)} ms`);
    }
    for (const [b, t] of [
      [8, 256],
      [2, 64],
      [12, 32],
    ] as const) {
      const measured = await medianMs(() => target.decodeStep(b, t));
      const predicted = cost.decodeStepMs(b, t);
      errors.push(relativeError(predicted, measured));
      lines.push(`decode ${b}@${t}: ${predicted.toFixed(2)} vs ${measured.toFixed(2)} ms`);
    }
    console.log(`measure: predicted vs measured: ${lines.join("; ")}`);
    const err = median(errors);
    console.log(`measure: median error of predictions on fresh shapes ${(100 * err).toFixed(0)}%`);
    // Loose: the machine is shared and noisy (30-50% run to run); the figure above is the report.
    assert.ok(err < 1, `median error ${err}`);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

test("calibration yields non-negative constants that predict fresh shapes within a loose factor", async () => {
  const target = await openOnnxTarget(calibrationModelDir());
  try {
    const first = await attempt(target);
    if (first === undefined) return;
    console.log(`measure: first attempt failed (${first}); calibrating again`);
    const second = await attempt(target);
    assert.is(second, undefined, second);
  } finally {
    await target.dispose();
  }
});

test("every graph family calibrates through the runtime, counting KV at its element size", async () => {
  const graphs = fileURLToPath(new URL("../runtime/fixtures/graphs", import.meta.url));
  const fp32 = await openOnnxTarget(join(graphs, "qwen2"));
  const fp16 = await openOnnxTarget(join(graphs, "qwen2"), { dtype: "fp16" });
  try {
    // 2 layers x 2 KV heads x 16 dims, keys and values: 4 bytes a value, or 2 in float16
    assert.is(fp32.kvBytesPerToken, 2 * 2 * 2 * 16 * 4);
    assert.is(fp16.kvBytesPerToken, 2 * 2 * 2 * 16 * 2);
    assert.is(fp16.modelId, "qwen2:fp16");
    assert.match(fp16.files[0]!, /onnx\/model_fp16\.onnx$/);
  } finally {
    await fp32.dispose();
    await fp16.dispose();
  }
  for (const dir of ["genai-gqa", "gpt2-style", "merged", "external-data"]) {
    const target = await openOnnxTarget(join(graphs, dir));
    try {
      await target.prefill([
        { newTokens: 5, cachedTokens: 0 },
        { newTokens: 3, cachedTokens: 0 },
      ]);
      await target.prefill([{ newTokens: 4, cachedTokens: 6 }]);
      await target.decodeStep(3, 9);
      if (dir === "external-data") assert.is(target.files.length, 3, "graph and two data files");
    } finally {
      await target.dispose();
    }
  }
});

test("a model folder without an ONNX file is refused with what to pass", async () => {
  try {
    await openOnnxTarget("/nonexistent-model-dir");
    assert.unreachable("should throw");
  } catch (err) {
    assert.match((err as Error).message, /--model DIR/);
  }
});

test.run();
