// Progress of one collect(): turns the executor's per-node events into the display module's
// ProgressReporter (one output updated in place in a notebook, a \r-line on a terminal), and
// shows the waits remote servers impose meanwhile (halo.openai's rate limits, wait-notices.ts).
// Shown by default where someone is watching (a notebook, or a TTY stderr) and off in logs and
// tests unless asked for, so CI output is not filled with progress lines.
import { getDisplayHost } from "../display/host.ts";
import type { ProgressOutcome, ProgressReporter } from "../display/progress.ts";
import type { ProgressEvent } from "../executor/types.ts";
import { currentWaits, onWaitsChanged } from "../runtime/openai/wait-notices.ts";

export interface CollectProgress {
  onProgress(event: ProgressEvent): void;
  /** With a budget: spent against it (BudgetMeter.line), shown beside the totals. */
  setBudget(text: string): void;
  /** `tokens`: the run's LLM totals from its trace, so the final state shows tok/s and hits. */
  finish(
    outcome: ProgressOutcome,
    tokens?: { prefill: number; cached: number; decode: number },
  ): void;
}

const NONE: CollectProgress = { onProgress: () => {}, setBudget: () => {}, finish: () => {} };

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
  const tokensSeen = new Map<number, { prefill: number; cached: number; decode: number }>();
  const seen = { prefill: 0, cached: 0, decode: 0 };
  let toolsInFlight = 0;
  const showWaits = () =>
    reporter.setWaits(
      currentWaits().map((w) => ({ label: w.label, ms: w.untilMs - performance.now() })),
    );
  const stopWaits = onWaitsChanged(showWaits);
  return {
    onProgress(event) {
      if (event.tokens) {
        // Cumulative per node: the bar gets the increase since this node's last event.
        const last = tokensSeen.get(event.nodeId) ?? { prefill: 0, cached: 0, decode: 0 };
        const delta = {
          prefill: event.tokens.prefill - last.prefill,
          cached: event.tokens.cached - last.cached,
          decode: event.tokens.decode - last.decode,
        };
        tokensSeen.set(event.nodeId, { ...event.tokens });
        seen.prefill += delta.prefill;
        seen.cached += delta.cached;
        seen.decode += delta.decode;
        reporter.addTokens(delta);
      }
      if (event.toolsInFlight !== undefined && event.toolsInFlight !== toolsInFlight) {
        const change = event.toolsInFlight - toolsInFlight;
        if (change > 0) reporter.toolStarted(change);
        else reporter.toolFinished(-change);
        toolsInFlight = event.toolsInFlight;
      }
      const prev = perNode.get(event.nodeId) ?? { done: 0, total: 0 };
      total += event.total - prev.total;
      const delta = event.done - prev.done;
      perNode.set(event.nodeId, { done: event.done, total: event.total });
      if (event.total !== prev.total) reporter.setTotal(total);
      if (delta > 0) reporter.addRows(delta);
      done += delta;
    },
    setBudget(text) {
      reporter.setBudget(text);
    },
    finish(outcome, tokens) {
      stopWaits();
      // Only what no event reported (calls that ended after their row's last event).
      if (tokens)
        reporter.addTokens({
          prefill: Math.max(0, tokens.prefill - seen.prefill),
          cached: Math.max(0, tokens.cached - seen.cached),
          decode: Math.max(0, tokens.decode - seen.decode),
        });
      if (toolsInFlight > 0) reporter.toolFinished(toolsInFlight);
      // Totals count calls for rows a filter may drop later; a finished run did all there was.
      if (outcome === "done" && done < total) reporter.setTotal(done);
      reporter.finish(outcome);
    },
  };
}
