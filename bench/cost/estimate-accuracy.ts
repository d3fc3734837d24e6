// `halo bench estimates`: the cost model's estimate of an LLM node against what the run measured,
// on the shipped model (issue 6: median error under 25% after calibration). One sentiment node
// over the quickstart's reviews, collected 24, 24, 48, 48 rows in one process: the first run is
// cold, the second finds every prompt cached, the third meets a new batch shape, the fourth is
// steady. docs/cost-model.md reads the figures.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { halo } from "../../src/index.ts";

const CSV = fileURLToPath(new URL("../../notebooks/data/reviews.csv", import.meta.url));

export async function runEstimateAccuracy(): Promise<string[]> {
  const lines = readFileSync(CSV, "utf8").trim().split("\n").slice(1, 49);
  // The review is the last column and holds no commas in the generated data.
  const rows = lines.map((l, id) => ({ id, review: l.split(",").slice(7).join(",") }));
  const out: string[] = [];
  for (const [i, n] of [24, 24, 48, 48].entries()) {
    await halo
      .lazy(rows.slice(0, n))
      .agent({
        prompt:
          "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}",
        choices: ["positive", "negative", "neutral"],
        output: `s${i}`,
      })
      .collectRows({ reuse: false, progress: false });
    const r = halo.lastRun!;
    const node = r.nodes.find((x) => x.kind === "LlmCall")!;
    const busy = r.tasks
      .filter((t) => t.lane.startsWith("llm"))
      .reduce((a, t) => a + t.endMs - t.startMs, 0);
    const est = node.estimatedMs ?? Number.NaN;
    out.push(
      `run ${i + 1}: ${n} rows, estimated ${est.toFixed(1)} ms, measured ${node.measuredMs.toFixed(1)} ms (error ${((Math.abs(est - node.measuredMs) / node.measuredMs) * 100).toFixed(0)}%), LLM busy ${busy.toFixed(1)} ms, prefill ${node.prefillTokens} cached ${node.cachedTokens} decode ${node.decodeTokens}`,
    );
  }
  return out;
}
