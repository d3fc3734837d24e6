// Prefill and decode on one model at a few fixed shapes, for comparing runtime settings in turn:
// the intra-op thread count (onnxruntime's default of 0 against every core) and last-position
// logits (the default) against the graph as exported. docs/models.md and docs/benchmarks.md quote it.
//
//   npx tsx bench/runtime/forward-shapes.ts MODEL_DIR [--threads N] [--all-position-logits]
//
// Prints prefill times of 1 x 256 and 3 x 460 new tokens (greedy, one token), each twice (the
// first call of a shape pays onnxruntime's allocations), then mean decode step times at batch 6
// over 250-token prompts, the cores the process kept busy, and its peak RSS. The decode figure is
// not a workload's: its steps at one shape ranged 68-305 ms in one run here (15-26% of the time in
// the kernel, half a core idle), while batch-6 steps in the bench's traces took a median of 51-59
// ms; compare settings on whole workloads (`npm run bench -- ... --traces DIR`) before trusting it.
import { parseArgs } from "node:util";
import { LlmWorker } from "../../src/processor/llm/llm-worker.ts";
import { RuntimeEngine } from "../../src/processor/llm/runtime-engine.ts";
import { loadModel } from "../../src/runtime/index.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: "string" },
    "all-position-logits": { type: "boolean", default: false },
  },
});
const [dir] = positionals;
if (!dir) {
  process.stderr.write(
    "usage: forward-shapes.ts MODEL_DIR [--threads N] [--all-position-logits]\n",
  );
  process.exit(2);
}
const threads = values.threads === undefined ? undefined : Number(values.threads);
const model = await loadModel(dir, {
  selfTest: false,
  ...(threads !== undefined && { intraOpThreads: threads }),
  ...(values["all-position-logits"] && { allPositionLogits: true }),
});
const tokens = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => 100 + ((i * 7919 + seed * 104729) % 5000));
const lines: string[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();

for (const [rows, n] of [
  [1, 256],
  [3, 460],
  [1, 256],
  [3, 460],
] as const) {
  const started = performance.now();
  await model.generate(
    Array.from({ length: rows }, (_, k) => ({
      promptTokens: tokens(n, k + n),
      sampling: { maxTokens: 1 },
    })),
  );
  const ms = performance.now() - started;
  lines.push(
    `prefill ${rows} x ${n}: ${ms.toFixed(0)} ms (${((rows * n * 1000) / ms).toFixed(0)} tok/s)`,
  );
}

const steps: number[] = [];
const worker = new LlmWorker(new RuntimeEngine(model), {
  cache: false,
  onStep: (step, ms) => step.kind === "decode" && steps.push(ms),
});
await Promise.all(
  Array.from({ length: 6 }, (_, k) =>
    worker.submit({ promptTokens: tokens(250, 40 + k), sampling: { maxTokens: 16 } }),
  ),
);
const mean = steps.reduce((a, b) => a + b, 0) / steps.length;
lines.push(
  `decode at batch 6 after 250 tokens: ${mean.toFixed(1)} ms a step (${steps.length} steps)`,
);

const used = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
console.log(
  `${dir} threads ${threads ?? "default"} logits ${JSON.stringify(model.graph.logits)}\n  ` +
    [
      ...lines,
      `cores busy ${((used.user + used.system) / 1000 / wall).toFixed(2)}`,
      `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    ].join("\n  "),
);
await model.dispose();
