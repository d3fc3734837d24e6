// `halo`: the workload's plan collected with every optimizer pass on, run by the Processor
// (continuous batching, prefix KV cache, tools overlapped with the model), and
// the ablations `halo-no-<pass>`, one per optimizer pass flag (src/plan/optimize.ts PASS_NAMES),
// and `halo-no-<feature>` for the Processor's feature switches (processor/config.ts): the prefix
// cache, continuous batching and the tool cache, each a per-run override of the session's
// Processor settings. Session reuse is off: each run starts cold, or a later system would read an
// earlier one's results.
import { session } from "../../src/frame/session.ts";
import type { ProcessorSettings } from "../../src/processor/config.ts";
import { optimizations, PASS_NAMES, type OptimizationFlags } from "../../src/plan/optimize.ts";
import type { System, SystemCounters } from "../harness/types.ts";
import { buildFrame } from "./plan.ts";
import { resultRows } from "./steps.ts";

/** `dedupeCalls` -> `dedupe-calls`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Processor features an ablation can switch off, as run settings. */
const PROCESSOR_ABLATIONS: Record<string, ProcessorSettings> = {
  "halo-no-prefix-cache": { kv: { prefixCache: false } },
  "halo-no-continuous-batching": { llm: { continuousBatching: false } },
  "halo-no-tool-cache": { tools: { cache: false } },
};

function haloSystem(
  name: string,
  role: "halo" | "ablation",
  flags: OptimizationFlags,
  processor?: ProcessorSettings,
): System {
  return {
    name,
    role,
    async run(shape, inputs, ctx) {
      const { frame, db } = buildFrame(shape, inputs, ctx);
      db.takeCount();
      const result = await frame.collectRows({
        optimizations: flags,
        ...(processor && { processor }),
        reuse: false,
        signal: ctx.signal,
      });
      const sql = db.takeCount();
      const report = session.lastRun;
      const counters: SystemCounters = { toolCalls: { sql } };
      if (report) {
        const nodes = report.nodes;
        const sum = (kind: string, pick: (n: (typeof nodes)[number]) => number) =>
          nodes.filter((n) => kind === "*" || n.kind === kind).reduce((a, n) => a + pick(n), 0);
        counters.prefillTokens = sum("LlmCall", (n) => n.prefillTokens);
        counters.cachedTokens = sum("LlmCall", (n) => n.cachedTokens);
        counters.decodeTokens = sum("LlmCall", (n) => n.decodeTokens);
        counters.llmCalls = report.llmCalls;
        counters.plannerMs = report.plannerMs ?? 0;
        counters.toolCalls = {
          sql,
          http: sum("HttpCall", (n) => n.calls),
          function: sum("FnCall", (n) => n.calls),
        };
      }
      return { rows: resultRows(shape, result.rows), counters, trace: report };
    },
  };
}

export const halo: System = haloSystem("halo", "halo", optimizations.defaults());

/** halo with one optimizer pass switched off, for each pass. */
export const haloAblations: System[] = [
  ...PASS_NAMES.map((pass) =>
    haloSystem(`halo-no-${kebab(pass)}`, "ablation", {
      ...optimizations.defaults(),
      [pass]: false,
    }),
  ),
  // And each Processor feature off in turn (issue 9: "each optimizer pass and each Processor
  // feature switched off").
  ...Object.entries(PROCESSOR_ABLATIONS).map(([name, settings]) =>
    haloSystem(name, "ablation", optimizations.defaults(), settings),
  ),
];
