// `halo bench threads [--rows 32] [--repeats 3] [--model-dir DIR]`: the model in-process (every
// forward on the JS thread) against the model in worker threads (ThreadedEngine), one and two
// LLM workers, on models/variants/halo-20m by default (built when missing). Two workflows:
// - llm: two agents on the same rows (a fork), collected together: model work only;
// - http: an agent, then an HTTP tool per row (the bench tool server, another process, answering
//   after a Gamma delay), then an agent reading the tool's answer: tool calls overlap forwards.
// Per run: wall time; the main thread's event-loop delay (p50/p99/max, monitorEventLoopDelay at
// 1 ms resolution) and utilization; forward time per token (in the thread, or the LLM tasks'
// time in-process); for http, how long Halo saw each HTTP call take against the server's own
// delay; the main thread's time choosing tokens (where sampling runs: both engines choose on the
// main thread, from the last position's logits). Systems are interleaved run by run after one
// untimed warm-up run each; medians printed.
import { PerformanceObserver, monitorEventLoopDelay } from "node:perf_hooks";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { collectPlans } from "../../src/frame/collect.ts";
import { session } from "../../src/frame/session.ts";
import { halo } from "../../src/index.ts";
import { listModelThreads } from "../../src/processor/llm/thread/model-threads.ts";
import { RuntimeEngine } from "../../src/processor/llm/runtime-engine.ts";
import type { LazyFrame } from "../../src/frame/lazy-frame.ts";
import { spawnToolServer, type ToolServerHandle } from "../http-tools/spawn.ts";
import { buildMissingVariants } from "../systems/build-variants.ts";
import { SAMPLE_REVIEWS, SENTIMENT_PROMPT, SUMMARY_PROMPT } from "../workloads/prompts.ts";

const repoPath = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
export const DEFAULT_THREADS_MODEL = repoPath("models/variants/halo-20m");

interface System {
  name: string;
  modelThreads: boolean;
  llmWorkers: number;
}

const SYSTEMS: System[] = [
  { name: "in-process, 1 worker", modelThreads: false, llmWorkers: 1 },
  { name: "threads, 1 worker", modelThreads: true, llmWorkers: 1 },
  { name: "in-process, 2 workers", modelThreads: false, llmWorkers: 2 },
  { name: "threads, 2 workers", modelThreads: true, llmWorkers: 2 },
];

function workflows(rows: number, model: string, serverUrl: string): Record<string, LazyFrame[]> {
  const data = Array.from({ length: rows }, (_, id) => ({
    id,
    review: `${SAMPLE_REVIEWS[id % SAMPLE_REVIEWS.length]} Order ${id}.`,
    word: `w${id}`,
  }));
  const source = halo.lazy(data);
  const sentiment = source.agent({
    model,
    prompt: SENTIMENT_PROMPT,
    choices: ["positive", "negative", "neutral"],
    output: "sentiment",
  });
  return {
    llm: [
      sentiment,
      source.agent({ model, prompt: SUMMARY_PROMPT, output: "summary", maxTokens: 16 }),
    ],
    http: [
      sentiment.http({ url: `${serverUrl}/imdb/search?keyword={{word}}`, output: "hits" }).agent({
        model,
        prompt: `${SUMMARY_PROMPT}\nSearch results: {{hits}}`,
        output: "summary",
        maxTokens: 8,
      }),
    ],
  };
}

/** Main-thread time inside token choosers (SequenceDecoder.next), summed over the process. */
let chooseMs = 0;
/** Main-thread garbage collection time, summed over the process. */
let gcMs = 0;

function observeGc(): PerformanceObserver {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ["gc"] });
  return observer;
}

/** Times every decoder's `next` (both engines take their decoders from RuntimeEngine). */
function timeTokenChoosers(): void {
  const create = RuntimeEngine.prototype.createDecoder;
  RuntimeEngine.prototype.createDecoder = function (request) {
    const decoder = create.call(this, request);
    return {
      next(logits) {
        const t = performance.now();
        try {
          return decoder.next(logits);
        } finally {
          chooseMs += performance.now() - t;
        }
      },
      result: () => decoder.result(),
    };
  };
}

interface Measure {
  wallMs: number;
  /** Main-thread time choosing tokens, ms. */
  chooseMs: number;
  /** Main-thread GC time, ms. */
  gcMs: number;
  /** CPU time of the whole process (every thread), ms. */
  cpuMs: number;
  delayP50: number;
  delayP99: number;
  delayMax: number;
  /** Main thread's event-loop utilization during the collect (0..1). */
  elu: number;
  /** Forward time per token computed (ms): in the thread, or the LLM tasks in-process. */
  forwardMsPerToken: number;
  forwardMs: number;
  /** Per worker's forward time (threads only), ms. */
  workerMs: number[];
  /** HTTP calls: median time Halo saw, and the server's mean delay. */
  httpSeenMs?: number;
  httpServerMs?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

/** Forward time and tokens per model thread so far (engines live for the process). */
function threadTotals(): Map<string, { ms: number; tokens: number }> {
  return new Map(
    listModelThreads().map((e) => [e.label, { ms: e.timing.threadMs, tokens: e.timing.tokens }]),
  );
}

async function measureRun(
  system: System,
  frames: LazyFrame[],
  server: ToolServerHandle,
): Promise<{ measure: Measure; table: string }> {
  await server.resetStats();
  // Every system starts cold: no system inherits another's warm prefix KV.
  session.processor.dropWorkers();
  const before = threadTotals();
  const chose = chooseMs;
  const collected = gcMs;
  const cpu0 = process.cpuUsage();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  delay.enable();
  const t0 = performance.now();
  const tables = await collectPlans(
    frames.map((f) => f.node),
    {
      reuse: false,
      calibrate: false,
      progress: false,
      processor: {
        llm: { workersPerModel: system.llmWorkers, modelThreads: system.modelThreads },
      },
    },
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  await new Promise((resolve) => setImmediate(resolve)); // the last GC entries arrive
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const run = session.lastRun!;
  let forwardMs = 0;
  let tokens = 0;
  const workerMs: number[] = [];
  if (system.modelThreads) {
    for (const [label, now] of threadTotals()) {
      const was = before.get(label) ?? { ms: 0, tokens: 0 };
      if (now.tokens === was.tokens) continue;
      workerMs.push(now.ms - was.ms);
      forwardMs += now.ms - was.ms;
      tokens += now.tokens - was.tokens;
    }
  } else {
    for (const t of run.tasks)
      if (t.kind === "prefill" || t.kind === "decode") {
        forwardMs += t.endMs - t.startMs;
        tokens += (t.prefillTokens ?? 0) + (t.decodeTokens ?? 0);
      }
  }
  const http = run.tasks.filter((t) => t.kind === "http" && !t.cacheHit);
  const stats = await server.stats();
  const ms = (ns: number) => ns / 1e6;
  return {
    table: JSON.stringify(tables.map((t) => t.rows)),
    measure: {
      wallMs,
      chooseMs: chooseMs - chose,
      gcMs: gcMs - collected,
      cpuMs: (cpu.user + cpu.system) / 1000,
      delayP50: ms(delay.percentile(50)),
      delayP99: ms(delay.percentile(99)),
      delayMax: ms(delay.max),
      elu,
      forwardMs,
      forwardMsPerToken: forwardMs / Math.max(1, tokens),
      workerMs,
      ...(http.length > 0 && {
        httpSeenMs: median(http.map((t) => t.endMs - t.startMs)),
        httpServerMs: stats.delayMsTotal / Math.max(1, stats.requests),
      }),
    },
  };
}

export async function runThreadsBench(options: {
  rows: number;
  repeats: number;
  modelDir?: string;
}): Promise<string[]> {
  const modelDir = options.modelDir ?? DEFAULT_THREADS_MODEL;
  if (!options.modelDir)
    buildMissingVariants(
      [modelDir],
      repoPath("models/halo-tiny"),
      repoPath("models/build/make-variants.py"),
    );
  if (!existsSync(`${modelDir}/config.json`))
    throw new Error(`bench threads: no model in ${modelDir} (a folder with config.json)`);
  timeTokenChoosers();
  const gc = observeGc();
  const server = await spawnToolServer({ seed: 42, datasets: ["imdb"] });
  const lines: string[] = [
    `model ${modelDir}; ${options.rows} rows; medians of ${options.repeats} interleaved runs after one warm-up each; tool server ${server.url} (Gamma delays, mean 30 ms)`,
  ];
  try {
    for (const [name, frames] of Object.entries(workflows(options.rows, modelDir, server.url))) {
      const runs = new Map<string, Measure[]>();
      const tables = new Map<string, string>();
      for (let r = -1; r < options.repeats; r++)
        for (const system of SYSTEMS) {
          const { measure, table } = await measureRun(system, frames, server);
          tables.set(system.name, table);
          if (r >= 0) runs.set(system.name, [...(runs.get(system.name) ?? []), measure]);
        }
      const reference = tables.get(SYSTEMS[0]!.name);
      const differ = SYSTEMS.filter((s) => tables.get(s.name) !== reference).map((s) => s.name);
      lines.push(
        `${name}: tables ${differ.length === 0 ? "equal across systems" : `differ from in-process (${differ.join(", ")}): batched rounding on random weights (runtime notes, pitfall 8)`}`,
      );
      for (const system of SYSTEMS) lines.push(`  ${formatSystem(system, runs.get(system.name)!)}`);
      lines.push(...estimateTwoWorkers(runs));
    }
    const starts = listModelThreads().map((e) => e.timing.startMs);
    lines.push(
      `thread start (until its model is ready): median ${median(starts).toFixed(0)} ms over ${starts.length} threads`,
    );
  } finally {
    gc.disconnect();
    await server.close();
  }
  return lines;
}

function formatSystem(system: System, ms: Measure[]): string {
  const m = (pick: (x: Measure) => number) => median(ms.map(pick));
  const http =
    ms[0]!.httpSeenMs !== undefined
      ? `; HTTP call seen ${m((x) => x.httpSeenMs!).toFixed(0)} ms (server delay ${m((x) => x.httpServerMs!).toFixed(0)} ms)`
      : "";
  return (
    `${system.name.padEnd(22)} ${m((x) => x.wallMs)
      .toFixed(0)
      .padStart(6)} ms; ` +
    `loop delay p50 ${m((x) => x.delayP50).toFixed(1)} / p99 ${m((x) => x.delayP99).toFixed(0)} / max ${m((x) => x.delayMax).toFixed(0)} ms; ` +
    `main thread busy ${(m((x) => x.elu) * 100).toFixed(0)}%, GC ${m((x) => x.gcMs).toFixed(0)} ms, choosing tokens ${m((x) => x.chooseMs).toFixed(0)} ms; ` +
    `process CPU ${m((x) => x.cpuMs).toFixed(0)} ms; ` +
    `forward ${m((x) => x.forwardMsPerToken * 1000).toFixed(0)} us/token${http}`
  );
}

/**
 * Two workers need two sets of cores: on 2 cores their forwards contend. The slowdown s is the
 * forward time per token with two workers over one; with a core set per worker the busier
 * worker's forwards would take 1/s as long, and the rest of the wall time (gaps where that
 * worker waited) stays: est = max_w(forwardMs_w) / s + (wall - max_w(forwardMs_w)).
 */
function estimateTwoWorkers(runs: Map<string, Measure[]>): string[] {
  const one = runs.get("threads, 1 worker");
  const two = runs.get("threads, 2 workers");
  if (!one || !two) return [];
  const t1 = median(one.map((x) => x.forwardMsPerToken));
  const t2 = median(two.map((x) => x.forwardMsPerToken));
  const s = t2 / t1;
  const busiest = median(two.map((x) => Math.max(...x.workerMs)));
  const wall2 = median(two.map((x) => x.wallMs));
  const wall1 = median(one.map((x) => x.wallMs));
  const est = busiest / Math.max(1, s) + (wall2 - busiest);
  return [
    `  estimate, threads with 2 workers on a core set each: forwards ${s.toFixed(2)}x slower per token with 2 workers than 1 here (contention); busiest worker ${busiest.toFixed(0)} ms of forwards; est. ${est.toFixed(0)} ms vs ${wall1.toFixed(0)} ms for 1 worker (${(wall1 / est).toFixed(2)}x)`,
  ];
}
