// `halo bench workers [--rows 48] [--repeats 5]`: one LLM worker per model against two
// (`collect({ processor: { llm: { workersPerModel } } })`), on the shipped model. Two workflows:
// - chain: a second agent whose prompt starts with the first one's; place-work puts it on the
//   other worker, so the first call's KV moves over (or is recomputed when the cost model says
//   that is cheaper, forced here by a cost model with a slow move);
// - fork: two agents on the same rows collected together; they can run on both workers at once.
// Every run starts with cold prefix caches, and the systems are interleaved run by run so load
// changes hit them alike. Tables are checked equal across systems; medians are printed.
import { CostModel } from "../../src/cost/cost-model.ts";
import { priorProfile } from "../../src/cost/profile.ts";
import { collectPlans } from "../../src/frame/collect.ts";
import { session } from "../../src/frame/session.ts";
import { halo } from "../../src/index.ts";
import type { LazyFrame } from "../../src/frame/lazy-frame.ts";
import {
  SAMPLE_REVIEWS as REVIEWS,
  SENTIMENT_PROMPT as SENTIMENT,
  SUMMARY_PROMPT as SUMMARY,
} from "../workloads/prompts.ts";

interface System {
  name: string;
  workersPerModel: number;
  /** Plan and run with a cost model where moving KV costs more than recomputing it. */
  slowMoves?: boolean;
}

const SYSTEMS: System[] = [
  { name: "1 worker", workersPerModel: 1 },
  { name: "2 workers", workersPerModel: 2 },
  { name: "2 workers, recompute", workersPerModel: 2, slowMoves: true },
];

function workflows(rows: number): Record<string, LazyFrame[]> {
  const data = Array.from({ length: rows }, (_, id) => ({
    id,
    review: `${REVIEWS[id % REVIEWS.length]} Order ${id}.`,
  }));
  const source = halo.lazy(data);
  const sentiment = source.agent({
    prompt: SENTIMENT,
    choices: ["positive", "negative", "neutral"],
    output: "sentiment",
  });
  return {
    chain: [
      sentiment.agent({
        prompt: `${SENTIMENT}\nLabel: {{sentiment}}`,
        output: "check",
        maxTokens: 8,
      }),
    ],
    fork: [sentiment, source.agent({ prompt: SUMMARY, output: "summary", maxTokens: 16 })],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runWorkersBench(rows: number, repeats: number): Promise<string[]> {
  const lines: string[] = [];
  const prior = session.processor.cost;
  const slow = new CostModel({
    ...priorProfile("shipped"),
    kvMove: { fixedMs: 1000, bytesPerMs: 1 },
  });
  for (const [name, frames] of Object.entries(workflows(rows))) {
    const walls = new Map<string, number[]>();
    const last = new Map<string, string>();
    let reference: string | undefined;
    // One run first, untimed: loads both sessions and warms the JIT for every system alike.
    for (let r = -1; r < repeats; r++) {
      for (const system of SYSTEMS) {
        session.processor.dropWorkers();
        session.processor.cost = system.slowMoves ? slow : prior;
        const t0 = performance.now();
        let tables;
        try {
          tables = await collectPlans(
            frames.map((f) => f.node),
            {
              reuse: false,
              calibrate: false,
              progress: false,
              processor: { llm: { workersPerModel: system.workersPerModel } },
            },
          );
        } finally {
          session.processor.cost = prior;
        }
        const ms = performance.now() - t0;
        const text = JSON.stringify(tables.map((t) => t.rows));
        reference ??= text;
        if (text !== reference) throw new Error(`${name}: ${system.name} gave another table`);
        if (r < 0) continue;
        walls.set(system.name, [...(walls.get(system.name) ?? []), ms]);
        const run = session.lastRun!;
        const m = run.kvMigration;
        const prefill = run.nodes.reduce((n, x) => n + x.prefillTokens, 0);
        const cached = run.nodes.reduce((n, x) => n + x.cachedTokens, 0);
        const moveMs = run.tasks
          .filter((t) => t.kind === "kv-move")
          .reduce((n, t) => n + t.endMs - t.startMs, 0);
        const lanes = new Map<string, Set<string>>();
        for (const t of run.tasks)
          if (t.kind === "prefill")
            for (const id of t.nodeIds) {
              const label = run.nodes.find((n) => n.nodeId === id)?.label ?? `#${id}`;
              lanes.set(label, (lanes.get(label) ?? new Set()).add(t.lane));
            }
        const placed = [...lanes].map(([l, s]) => `${l}@${[...s].join("+")}`).join(" ");
        last.set(
          system.name,
          `${placed}; planner ${(run.plannerMs ?? 0).toFixed(0)} ms; prefilled ${prefill}, cached ${cached}` +
            (m
              ? `, moved ${m.movedTokens} tokens in ${m.moves} moves (${moveMs.toFixed(1)} ms), declined ${m.declined} (${m.declinedTokens} tokens recomputed)`
              : ""),
        );
      }
    }
    lines.push(`${name}: ${rows} rows, medians of ${repeats} interleaved runs, tables equal`);
    for (const system of SYSTEMS)
      lines.push(
        `  ${system.name.padEnd(22)} ${median(walls.get(system.name)!).toFixed(0).padStart(6)} ms  ${last.get(system.name)}`,
      );
  }
  return lines;
}
