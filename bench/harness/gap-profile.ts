// Where a system's time goes between the floor and its measured seconds, read from its run trace
// (halo's `lastRun.trace`: every prefill call, decode step and tool call on one clock). The
// parts: time outside the Processor's clock (building and planning the frame), the model busy
// (against the floor's LLM seconds: forwards' fixed costs, tokens beyond the floor's), the model
// idle while a tool call ran (waiting on tools), the model idle with no tool running (scheduling,
// JavaScript, GC), KV moves; and the work itself against the floor's: prefill tokens not saved,
// decode tokens and steps beyond the minimum.
import type { RunTrace, TaskRecord } from "../../src/processor/trace/trace.ts";
import type { Floor } from "./floor.ts";

export interface GapProfile {
  seconds: number;
  floorSeconds: number;
  /** The system's seconds outside its trace's clock (building the plan, planning, lowering). */
  outsideTraceSeconds: number;
  plannerSeconds: number;
  /** Time some LLM lane was busy, and the part of it in prefill calls and in decode steps. */
  llmBusySeconds: number;
  prefillSeconds: number;
  decodeSeconds: number;
  /** No LLM lane busy, some tool call running. */
  toolWaitSeconds: number;
  /** No LLM lane busy and no tool call running. */
  idleSeconds: number;
  kvMoveSeconds: number;
  /** An LLM worker waiting for its model to load (a model thread's first start in the process). */
  modelLoadSeconds: number;
  prefillCalls: number;
  decodeSteps: number;
  meanDecodeBatch: number;
  prefillTokens: number;
  decodeTokens: number;
  floor: { llmSeconds: number; prefillTokens: number; decodeTokens: number; decodeSteps: number };
}

type Span = [number, number];

/** Sorted, disjoint spans covering the same time as `spans`. */
function union(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

const length = (spans: readonly Span[]) => spans.reduce((s, [a, b]) => s + (b - a), 0);

/** Time covered by both of two unions. */
function overlap(x: readonly Span[], y: readonly Span[]): number {
  let total = 0;
  for (let i = 0, j = 0; i < x.length && j < y.length; ) {
    total += Math.max(0, Math.min(x[i]![1], y[j]![1]) - Math.max(x[i]![0], y[j]![0]));
    if (x[i]![1] < y[j]![1]) i++;
    else j++;
  }
  return total;
}

const spansOf = (tasks: readonly TaskRecord[]) => union(tasks.map((t) => [t.startMs, t.endMs]));

export function gapProfile(trace: RunTrace, seconds: number, floor: Floor): GapProfile {
  const onLlmLanes = trace.tasks.filter((t) => t.lane.startsWith("llm:") && !t.error);
  const llm = onLlmLanes.filter((t) => t.kind !== "model-load");
  const loads = onLlmLanes.filter((t) => t.kind === "model-load");
  const prefill = llm.filter((t) => t.kind === "prefill");
  const decode = llm.filter((t) => t.kind === "decode");
  const llmSpans = spansOf(llm);
  const toolSpans = spansOf(trace.tasks.filter((t) => t.lane.startsWith("tool:")));
  const llmBusy = length(llmSpans);
  const toolWait = length(toolSpans) - overlap(toolSpans, llmSpans);
  // Loading overlaps neither kind of work above (the worker waits on it before its first call).
  const loadSpans = spansOf(loads);
  const modelLoad = length(loadSpans) - overlap(loadSpans, union([...llmSpans, ...toolSpans]));
  const sum = (tasks: readonly TaskRecord[], pick: (t: TaskRecord) => number) =>
    tasks.reduce((s, t) => s + pick(t), 0);
  const ms = (t: TaskRecord) => t.endMs - t.startMs;
  const decodeRows = sum(decode, (t) => t.batchSize);
  return {
    seconds,
    floorSeconds: floor.seconds,
    outsideTraceSeconds: Math.max(0, seconds - trace.wallMs / 1000),
    plannerSeconds: (trace.plannerMs ?? 0) / 1000,
    llmBusySeconds: llmBusy / 1000,
    prefillSeconds: sum(prefill, ms) / 1000,
    decodeSeconds: sum(decode, ms) / 1000,
    toolWaitSeconds: toolWait / 1000,
    idleSeconds: Math.max(0, trace.wallMs - llmBusy - toolWait - modelLoad) / 1000,
    kvMoveSeconds:
      sum(
        trace.tasks.filter((t) => t.kind === "kv-move"),
        ms,
      ) / 1000,
    modelLoadSeconds: modelLoad / 1000,
    prefillCalls: prefill.length,
    decodeSteps: decode.length,
    meanDecodeBatch: decode.length > 0 ? decodeRows / decode.length : 0,
    prefillTokens: sum(prefill, (t) => t.prefillTokens ?? 0),
    decodeTokens: sum(decode, (t) => t.decodeTokens ?? t.batchSize),
    floor: {
      llmSeconds: floor.llmSeconds,
      prefillTokens: floor.models.reduce((n, m) => n + m.prefillTokens, 0),
      decodeTokens: floor.models.reduce((n, m) => n + m.decodeTokens, 0),
      decodeSteps: floor.minDecodeSteps,
    },
  };
}

const s2 = (x: number) => `${x.toFixed(2)} s`;
const share = (part: number, whole: number) =>
  whole > 0 ? `${((part / whole) * 100).toFixed(0)}%` : "-";

/** Two lines under a workload's table: the time split, then the work against the floor's. */
export function formatGap(name: string, g: GapProfile): string {
  const parts = [
    `model busy ${s2(g.llmBusySeconds)} (${share(g.llmBusySeconds, g.seconds)}; floor's LLM ${s2(g.floor.llmSeconds)})`,
    `waiting on tools ${s2(g.toolWaitSeconds)} (${share(g.toolWaitSeconds, g.seconds)})`,
    `nothing traced running ${s2(g.idleSeconds)} (${share(g.idleSeconds, g.seconds)})`,
    `outside the trace ${s2(g.outsideTraceSeconds)} (planner ${s2(g.plannerSeconds)})`,
  ];
  if (g.modelLoadSeconds > 0)
    parts.splice(
      2,
      0,
      `loading the model ${s2(g.modelLoadSeconds)} (${share(g.modelLoadSeconds, g.seconds)})`,
    );
  if (g.kvMoveSeconds > 0) parts.push(`KV moves ${s2(g.kvMoveSeconds)}`);
  return [
    `${name} against the floor: ${s2(g.seconds)} = ${parts.join(" + ")}`,
    `  prefill ${g.prefillTokens} tok in ${g.prefillCalls} calls (${s2(g.prefillSeconds)}; floor ${g.floor.prefillTokens} tok, not saved ${g.prefillTokens - g.floor.prefillTokens}); ` +
      `decode ${g.decodeTokens} tok in ${g.decodeSteps} steps, mean batch ${g.meanDecodeBatch.toFixed(1)} (${s2(g.decodeSeconds)}; floor ${g.floor.decodeTokens} tok, at least ${g.floor.decodeSteps} steps)`,
  ].join("\n");
}
