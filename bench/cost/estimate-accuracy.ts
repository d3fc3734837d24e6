// `halo bench estimates`: the cost model's estimate of an LLM node against what the run measured,
// on the shipped model (issue 6: median error under 25% after calibration). First one sentiment
// node over the quickstart's reviews, collected 24, 24, 48, 48 rows in one process: the first run
// is cold, the second finds every prompt cached, the third meets a new batch shape, the fourth is
// steady. Then the quickstart's pipelined plan (sentiment and category per row, a filter, a
// summary of the negative ones: three LLM nodes sharing one worker) twice, each LLM node's
// estimate against its span and against its own share of the worker's time (node-shares.ts).
// docs/cost-model.md reads the figures.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { halo } from "../../src/index.ts";
import type { NodeStats } from "../../src/processor/trace/trace.ts";

const CSV = fileURLToPath(new URL("../../notebooks/data/reviews.csv", import.meta.url));

const relError = (est: number, meas: number) => Math.abs(est - meas) / meas;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function runEstimateAccuracy(): Promise<string[]> {
  const lines = readFileSync(CSV, "utf8").trim().split("\n").slice(1, 49);
  // The review is the last column and holds no commas in the generated data.
  const rows = lines.map((l, id) => ({
    id,
    product: l.split(",")[1]!,
    review: l.split(",").slice(7).join(","),
  }));
  const sentiment = {
    prompt:
      "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}",
    choices: ["positive", "negative", "neutral"],
  };
  const out: string[] = [];
  for (const [i, n] of [24, 24, 48, 48].entries()) {
    await halo
      .lazy(rows.slice(0, n))
      .agent({ ...sentiment, output: `s${i}` })
      .collectRows({ reuse: false, progress: false });
    const r = halo.lastRun!;
    const node = r.nodes.find((x) => x.kind === "LlmCall")!;
    const busy = r.tasks
      .filter((t) => t.lane.startsWith("llm"))
      .reduce((a, t) => a + t.endMs - t.startMs, 0);
    const est = node.estimatedMs ?? Number.NaN;
    out.push(
      `run ${i + 1}: ${n} rows, estimated ${est.toFixed(1)} ms, measured ${node.measuredMs.toFixed(1)} ms (error ${pct(relError(est, node.measuredMs))}), own share ${(node.llmMs ?? Number.NaN).toFixed(1)} ms (error ${pct(relError(est, node.llmMs ?? Number.NaN))}), LLM busy ${busy.toFixed(1)} ms, prefill ${node.prefillTokens} cached ${node.cachedTokens} decode ${node.decodeTokens}`,
    );
  }
  for (const run of [1, 2]) {
    await halo
      .lazy(rows)
      .agent({ ...sentiment, name: "sentiment", output: "sentiment" })
      .agent({
        name: "category",
        prompt:
          "Which category does this product belong to? Answer with one of: electronics, kitchen, clothing, books, toys, sports, garden, beauty.\nProduct: {{product}}",
        choices: [
          "electronics",
          "kitchen",
          "clothing",
          "books",
          "toys",
          "sports",
          "garden",
          "beauty",
        ],
        output: "category",
      })
      .filter(halo.col("sentiment").eq("negative"))
      .agent({
        name: "summary",
        prompt: "Summarize the review in a few words.\nReview: {{review}}",
        output: "summary",
        maxTokens: 24,
      })
      .collectRows({ reuse: false, progress: false });
    const llm = halo.lastRun!.nodes.filter(
      (n): n is NodeStats & { estimatedMs: number } =>
        n.kind === "LlmCall" && n.estimatedMs !== undefined && n.calls > 0,
    );
    const each = llm
      .map(
        (n) =>
          `${n.label} est ${n.estimatedMs.toFixed(1)} / span ${n.measuredMs.toFixed(1)} / own ${(n.llmMs ?? Number.NaN).toFixed(1)} ms`,
      )
      .join("; ");
    const span = median(llm.map((n) => relError(n.estimatedMs, n.measuredMs)));
    const own = median(llm.map((n) => relError(n.estimatedMs, n.llmMs ?? Number.NaN)));
    out.push(
      `pipelined run ${run} (${rows.length} rows, ${llm.length} LLM nodes): median error vs span ${pct(span)}, vs own share ${pct(own)}; ${each}`,
    );
  }
  return out;
}
