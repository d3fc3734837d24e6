// The floor of a workload: a lower bound on the seconds any system needs for it on this machine,
// from the workload's own calls (recorded by the reference pass, reference-pass.ts) and the best
// rates measured for its models (llm-rates.ts), independent of any system. docs/benchmarks.md
// ("The floor") gives the formula and why each part is a lower bound:
//
//   floor = max(LLM floor, tool floor)
//   LLM floor  = sum over models of  P x (best ms per prefilled token) + G x (best ms per decoded token)
//   tool floor = max over queries of the longest path of tool latencies through the shape
//
// P: distinct prompt positions (a prefix trie over every distinct prompt: a shared prefix counts
// once, equal prompts once); G: positions a model must decode one step at a time (each answer's
// tokens but the one its prefill gives, plus the end token's step, again counted once in a trie).
import { edgesOf, topoOrder } from "../workloads/graph.ts";
import type { WorkflowShape } from "../workloads/types.ts";
import type { LlmRates } from "./llm-rates.ts";
import type { WorkloadResult } from "./types.ts";

/** One LLM call as the reference pass saw it. */
export interface LlmCallRecord {
  modelDir: string;
  promptTokens: readonly number[];
  /** The answer's tokens (without the end token). */
  outputTokens: readonly number[];
  /** The answer ended by picking the end token (one more step than its tokens). */
  endedOnEos: boolean;
}

/** One distinct tool call: its kind and the least time it can take. */
export interface ToolCallRecord {
  kind: "sql" | "http" | "function";
  ms: number;
}

/** What a workload asks for, as the floor needs it. */
export interface WorkloadCalls {
  /** Every LLM call (equal ones may repeat: the tries count them once). */
  llm: LlmCallRecord[];
  /** Distinct tool calls by request key. */
  tools: Map<string, ToolCallRecord>;
  /**
   * Per query, in input order: its qid, the key of the call each tool node made, and the decode
   * steps each LLM node's answer needed (its fed answer tokens, see computedSequence).
   */
  queries: { qid: unknown; tools: Map<string, string>; decodeRows: Map<string, number> }[];
  /** Calls asked for (queries x nodes) and distinct ones. */
  counts: { llm: number; distinctLlm: number; tools: number; distinctTools: number };
}

export interface ModelFloor {
  modelDir: string;
  /** P: distinct prompt positions. */
  prefillTokens: number;
  /** G: positions decoded one step at a time. */
  decodeTokens: number;
  rates: LlmRates;
  seconds: number;
}

export interface Floor {
  seconds: number;
  llmSeconds: number;
  toolSeconds: number;
  /** Which term sets the floor. */
  bound: "llm" | "tools";
  models: ModelFloor[];
  counts: WorkloadCalls["counts"];
  /** The query whose tool path sets the tool floor, and that path's calls. */
  criticalPath: { qid: unknown; steps: { node: string; kind: string; ms: number }[] };
  /** The longest chain of decode steps one query needs (minDecodeSteps; not in `seconds`). */
  minDecodeSteps: number;
}

function compareTokens(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Nodes of the prefix trie over `sequences`: the positions to compute when every sequence reuses
 * the longest prefix any other one shares with it. With an unbounded cache this is the same in
 * every order, so it is also the count in the best order. Sorted, each sequence adds its length
 * minus its common prefix with the one before it (no trie held in memory).
 */
export function distinctPositions(sequences: readonly (readonly number[])[]): number {
  const sorted = [...sequences].sort(compareTokens);
  let count = 0;
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i]!;
    const prev = i > 0 ? sorted[i - 1]! : [];
    let common = 0;
    while (common < s.length && common < prev.length && s[common] === prev[common]) common++;
    count += s.length - common;
  }
  return count;
}

/**
 * Positions whose KV must be computed for a call: its prompt, then each answer token that the next
 * step's forward takes as input (all but the last, and the last too when the end token followed).
 * The first answer token comes from the prefill's logits, so it costs no decode step.
 */
function computedSequence(call: LlmCallRecord): number[] {
  return [...call.promptTokens, ...call.outputTokens.slice(0, decodeRows(call))];
}

/** Answer tokens fed back through a decode step: all but the last, and it too if the end token followed. */
export function decodeRows(call: Omit<LlmCallRecord, "modelDir" | "promptTokens">): number {
  return Math.max(0, call.endedOnEos ? call.outputTokens.length : call.outputTokens.length - 1);
}

/**
 * The LLM floor per model: P prompt positions at the best prefill rate and G decoded positions at
 * the best decode rate. A position in some prompt counts as prefill (the cheaper rate) even when
 * another call decodes it, so G = trie(prompts and answers) - trie(prompts) >= what must be decoded.
 */
export function llmFloor(
  calls: readonly LlmCallRecord[],
  ratesOf: (modelDir: string, distinctCalls: number) => LlmRates,
): ModelFloor[] {
  const byModel = new Map<string, LlmCallRecord[]>();
  for (const c of calls) {
    const list = byModel.get(c.modelDir) ?? [];
    list.push(c);
    byModel.set(c.modelDir, list);
  }
  return [...byModel].map(([modelDir, list]) => {
    const prefillTokens = distinctPositions(list.map((c) => c.promptTokens));
    const decodeTokens = distinctPositions(list.map(computedSequence)) - prefillTokens;
    const distinct = new Set(list.map((c) => computedSequence(c).join(","))).size;
    const rates = ratesOf(modelDir, distinct);
    const ms = prefillTokens * rates.prefill.msPerToken + decodeTokens * rates.decode.msPerToken;
    return { modelDir, prefillTokens, decodeTokens, rates, seconds: ms / 1000 };
  });
}

/** Predecessors of each node of the shape (input columns left out), and a topological order. */
function shapeGraph(shape: WorkflowShape): { order: string[]; deps: Map<string, string[]> } {
  const deps = new Map<string, string[]>(shape.nodes.map((n) => [n.id, []]));
  for (const e of edgesOf(shape)) if (e.from !== "input") deps.get(e.to)!.push(e.from);
  return { order: topoOrder(shape).map((n) => n.id), deps };
}

/** The longest path to the final node, with each node weighing `weightOf(node)`. */
function longestPath(
  shape: WorkflowShape,
  graph: ReturnType<typeof shapeGraph>,
  weightOf: (node: string) => number,
): { length: number; nodes: string[] } {
  const done = new Map<string, { length: number; via?: string }>();
  for (const id of graph.order) {
    let start = 0;
    let via: string | undefined;
    for (const d of graph.deps.get(id)!) {
      const at = done.get(d)!.length;
      if (via === undefined || at > start) [start, via] = [at, d];
    }
    done.set(id, { length: start + weightOf(id), via });
  }
  const nodes: string[] = [];
  for (let id: string | undefined = shape.final; id !== undefined; id = done.get(id)!.via)
    nodes.unshift(id);
  return { length: done.get(shape.final)!.length, nodes };
}

/**
 * The tool floor: every distinct tool call at its least latency, with unbounded concurrency, so a
 * query can finish no sooner than its longest path of tool calls through the shape (LLM nodes
 * take no time on it). Calls in series add up; parallel branches take the longer one.
 */
export function toolFloor(
  shape: WorkflowShape,
  calls: Pick<WorkloadCalls, "tools" | "queries">,
): { seconds: number; criticalPath: Floor["criticalPath"] } {
  const graph = shapeGraph(shape);
  let worst: { ms: number; criticalPath: Floor["criticalPath"] } | undefined;
  for (const q of calls.queries) {
    const callOf = (node: string) => {
      const key = q.tools.get(node);
      return key === undefined ? undefined : calls.tools.get(key);
    };
    const path = longestPath(shape, graph, (node) => callOf(node)?.ms ?? 0);
    if (worst && path.length <= worst.ms) continue;
    const steps = path.nodes.flatMap((node) => {
      const call = callOf(node);
      return call ? [{ node, kind: call.kind, ms: call.ms }] : [];
    });
    worst = { ms: path.length, criticalPath: { qid: q.qid, steps } };
  }
  if (!worst) return { seconds: 0, criticalPath: { qid: null, steps: [] } };
  return { seconds: worst.ms / 1000, criticalPath: worst.criticalPath };
}

/**
 * Decode steps no schedule can avoid: a query's LLM nodes along a path run one after another,
 * and each decodes its answer one step at a time, so the longest such chain of steps over all
 * queries. Not part of the floor's seconds (the floor prices decode by throughput); it is what
 * a system's decode step count is compared with (gap-profile.ts).
 */
export function minDecodeSteps(
  shape: WorkflowShape,
  queries: readonly Pick<WorkloadCalls["queries"][number], "decodeRows">[],
): number {
  const graph = shapeGraph(shape);
  let most = 0;
  for (const q of queries)
    most = Math.max(most, longestPath(shape, graph, (node) => q.decodeRows.get(node) ?? 0).length);
  return most;
}

/** The floor: the LLM work and the tool path overlapped perfectly, nothing else. */
export function computeFloor(
  shape: WorkflowShape,
  calls: WorkloadCalls,
  ratesOf: (modelDir: string, distinctCalls: number) => LlmRates,
): Floor {
  const models = llmFloor(calls.llm, ratesOf);
  const llmSeconds = models.reduce((s, m) => s + m.seconds, 0);
  const tools = toolFloor(shape, calls);
  return {
    seconds: Math.max(llmSeconds, tools.seconds),
    llmSeconds,
    toolSeconds: tools.seconds,
    bound: llmSeconds >= tools.seconds ? "llm" : "tools",
    models,
    counts: calls.counts,
    criticalPath: tools.criticalPath,
    minDecodeSteps: minDecodeSteps(shape, calls.queries),
  };
}

/**
 * Systems that finished a workload in less time than its floor. No tolerance: every rate is the
 * best of all measurements (noise in any one lowers the floor) and noise in a system's own wall
 * time only adds to it, so below the floor means work was skipped or a rate is wrong.
 */
export function floorViolations(results: readonly WorkloadResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (!r.floor) continue;
    for (const m of r.systems)
      if (!m.error && m.seconds < r.floor.seconds)
        out.push(
          `${m.name} ran ${r.name} in ${m.seconds.toFixed(3)} s, below its floor of ${r.floor.seconds.toFixed(3)} s ` +
            `(LLM ${r.floor.llmSeconds.toFixed(3)} s, tools ${r.floor.toolSeconds.toFixed(3)} s): no system can beat the floor, ` +
            `so it skipped work, or a rate the floor used is wrong (docs/benchmarks.md, "The floor")`,
        );
  }
  return out;
}
