// `halo bench resume [--rows 3000] [--interrupt-ms 2500]`: what a rerun costs after a failure or
// an interrupt, on the shipped model (issue 16, "finished work kept"), with onError "raise" (the
// default). Three measures:
// - 50 rows, a tool after the agent fails at row 45 (then fixed), in each executor;
// - 50 rows, the agent itself fails at row 45 (a prompt too long for the model, then shortened),
//   in the Processor (the row-by-row executor's generate() answers such a prompt with "");
// - `rows` rows interrupted `interrupt-ms` after the collect starts, in the Processor.
// Each says how many calls were kept and how many LLM calls the rerun made. Results are kept in
// the session only here (resultCache "off"): the disk store's restart is
// test/executor/result-cache-restart.test.ts.
import { halo } from "../../src/index.ts";
import type { Row } from "../../src/plan/types.ts";
import { SAMPLE_REVIEWS, SUMMARY_PROMPT } from "../workloads/prompts.ts";

const reviews = (n: number, tooLong?: number): Row[] =>
  Array.from({ length: n }, (_, id) => ({
    id,
    review:
      id === tooLong
        ? "word ".repeat(3000)
        : `${SAMPLE_REVIEWS[id % SAMPLE_REVIEWS.length]} #${id}`,
  }));

const summarize = (rows: Row[]) =>
  halo
    .lazy(rows)
    .agent({ name: "summarize", prompt: SUMMARY_PROMPT, maxTokens: 12, output: "summary" });

/** A tool after the agent with a bug at row 45, or fixed. */
const measure = (rows: Row[], buggy: boolean) =>
  summarize(rows).tool(
    (id: number, s: string) => {
      if (buggy && id === 44) throw new Error("a bug in the tool");
      return s.length;
    },
    { inputs: ["id", "summary"], output: "chars", key: buggy ? "measure@buggy" : "measure@fixed" },
  );

const options = { calibrate: false, progress: false, resultCache: "off" } as const;

/** Runs `fail`, then `fixed`: the first run's kept note and timing, the rerun's LLM calls. */
async function failThenRerun(
  label: string,
  executor: "row-by-row" | "processor",
  fail: () => Promise<unknown>,
  fixed: () => Promise<unknown>,
): Promise<string> {
  halo.clearCache();
  const t0 = performance.now();
  const kept = await fail().then(
    () => "(it did not fail)",
    (err: Error) => /; (.*?)(\n|$)/.exec(err.message)?.[1] ?? "?",
  );
  const failMs = performance.now() - t0;
  const first = halo.lastRun!.llmCalls;
  await fixed();
  const rerun = halo.lastRun!;
  return `${label}, ${executor}: ${first} LLM calls, failed after ${(failMs / 1000).toFixed(1)} s: ${kept}; the rerun made ${rerun.llmCalls} LLM calls (${rerun.callsFromStore.session} from the session)`;
}

export async function runResumeBench(rows: number, interruptMs: number): Promise<string[]> {
  const lines: string[] = [];
  for (const executor of ["row-by-row", "processor"] as const)
    lines.push(
      await failThenRerun(
        "a tool fails at row 45 of 50",
        executor,
        () => measure(reviews(50), true).collectRows({ ...options, executor }),
        () => measure(reviews(50), false).collectRows({ ...options, executor }),
      ),
    );
  lines.push(
    await failThenRerun(
      "the agent fails at row 45 of 50",
      "processor",
      () => summarize(reviews(50, 44)).collectRows(options),
      () => summarize(reviews(50)).collectRows(options),
    ),
  );

  halo.clearCache();
  const t0 = performance.now();
  let firstMs: number | undefined;
  await summarize(reviews(rows)).collectRows({
    ...options,
    reuse: false,
    onProgress: (e) => {
      if (e.label === "summarize" && e.done > 0) firstMs ??= performance.now() - t0;
    },
  });
  const fullMs = performance.now() - t0;
  const plannerMs = halo.lastRun!.plannerMs ?? 0;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("interrupted")), interruptMs);
  await summarize(reviews(rows))
    .collectRows({ ...options, signal: controller.signal })
    .catch(() => undefined);
  clearTimeout(timer);
  const kept = halo.lastRun!.callsKept;
  const t1 = performance.now();
  await summarize(reviews(rows)).collectRows(options);
  const rerunMs = performance.now() - t1;
  lines.push(
    `interrupt ${interruptMs} ms into ${rows} rows, processor: ${kept} calls kept; the rerun made ${halo.lastRun!.llmCalls} LLM calls in ${(rerunMs / 1000).toFixed(1)} s (a full run: ${(fullMs / 1000).toFixed(1)} s, its plan ${(plannerMs / 1000).toFixed(1)} s, its first answer after ${((firstMs ?? 0) / 1000).toFixed(1)} s)`,
  );
  return lines;
}
