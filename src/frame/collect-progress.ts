// Progress of one collect(): turns the executor's per-node events into the display module's
// ProgressReporter (one output updated in place in a notebook, a \r-line on a terminal).
// Shown by default where someone is watching (a notebook, or a TTY stderr) and off in logs and
// tests unless asked for, so CI output is not filled with progress lines.
import { getDisplayHost } from "../display/host.ts";
import type { ProgressReporter } from "../display/progress.ts";
import type { ProgressEvent } from "../executor/types.ts";

export interface CollectProgress {
  onProgress(event: ProgressEvent): void;
  /** `tokens`: the run's LLM totals from its trace, so the final state shows tok/s and hits. */
  finish(
    outcome: "done" | "cancelled" | "failed",
    tokens?: { prefill: number; cached: number; decode: number },
  ): void;
}

const NONE: CollectProgress = { onProgress: () => {}, finish: () => {} };

export async function startCollectProgress(
  requested: boolean | undefined,
  label: string,
): Promise<CollectProgress> {
  const watched = getDisplayHost().rich || process.stderr.isTTY === true;
  if (!(requested ?? watched)) return NONE;
  // Loaded here, not at import: `import "halo"` stays cheap for scripts that never collect.
  const { ProgressReporter } = await import("../display/progress.ts");
  const reporter: ProgressReporter = new ProgressReporter({ label });
  // Per node: calls done and expected. The bar counts calls over all nodes, so a plan whose
  // nodes run one after another advances smoothly instead of restarting per node.
  const perNode = new Map<number, { done: number; total: number }>();
  let done = 0;
  let total = 0;
  return {
    onProgress(event) {
      const prev = perNode.get(event.nodeId) ?? { done: 0, total: 0 };
      total += event.total - prev.total;
      const delta = event.done - prev.done;
      perNode.set(event.nodeId, { done: event.done, total: event.total });
      if (event.total !== prev.total) reporter.setTotal(total);
      if (delta > 0) reporter.addRows(delta);
      done += delta;
    },
    finish(outcome, tokens) {
      if (tokens) reporter.addTokens(tokens);
      // Totals count calls for rows a filter may drop later; a finished run did all there was.
      if (outcome === "done" && done < total) reporter.setTotal(done);
      reporter.finish(outcome);
    },
  };
}
