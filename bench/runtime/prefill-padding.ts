// Does padding in a batched prefill cost what its extra tokens suggest? One 300-token prompt
// batched with three 40-token prompts (padded to 300: 1,200 positions for 420 real tokens)
// against the same prompts as two calls, and the long one alone; greedy, 1 token each, so the
// time is the prefill's. docs/benchmarks.md quotes it for the Qwen2.5-0.5B shape.
//   npx tsx bench/runtime/prefill-padding.ts models/realistic/bench/qwen2.5-0.5b-q4 [repeats]
import { loadModel } from "../../src/runtime/index.ts";
import type { GenerateRequest } from "../../src/runtime/types.ts";

const [dir, repeatsArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write("usage: prefill-padding.ts MODEL_DIR [repeats]\n");
  process.exit(2);
}
const model = await loadModel(dir, {});
const prompt = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => 100 + ((i * 7919 + seed * 104729) % 5000));
const one = (tokens: number[]): GenerateRequest => ({
  promptTokens: tokens,
  sampling: { maxTokens: 1 },
});
const long = one(prompt(300, 1));
const shorts = [2, 3, 4].map((seed) => one(prompt(40, seed)));
const timed = async (work: () => Promise<unknown>) => {
  const t = performance.now();
  await work();
  return performance.now() - t;
};
await model.generate([one(prompt(20, 9))]); // warm-up
console.log(`layout ${model.layout}`);
for (let r = 0; r < Number(repeatsArg ?? 2); r++) {
  const batched = await timed(() => model.generate([long, ...shorts]));
  const split = await timed(async () => {
    await model.generate([long]);
    await model.generate(shorts);
  });
  const alone = await timed(() => model.generate([long]));
  console.log(
    `batched ${batched.toFixed(0)} ms, two calls ${split.toFixed(0)} ms, long alone ${alone.toFixed(0)} ms`,
  );
}
await model.dispose();
