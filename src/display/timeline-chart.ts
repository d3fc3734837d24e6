// The timeline: one lane per LLM worker and per tool pool, a bar per task coloured by kind, and
// idle time drawn as pale grey so gaps read as "waiting", not as missing data.
//
// Two reductions keep the SVG small and readable: tasks running at once in one pool (HTTP with 4
// connections) are packed into thin sub-rows of the lane instead of hiding each other, and runs
// of back-to-back tasks of one kind closer together than a fraction of a pixel (a 40-step decode
// is 40 tasks) become one bar with a step count. The fixture run's 575 tasks become ~150 bars.
import type { RunTrace, TaskRecord } from "../processor/trace/trace.ts";
import type { VegaLiteSpec } from "./chart-bundle.ts";
import { CHART_WIDTH, round2, styledSpec, subtitleLines, traceWallMs } from "./chart-style.ts";
import { formatMs } from "./format.ts";
import { laneTitle, sortLanes } from "./lanes.ts";
import { TASK_COLORS } from "./palette.ts";

const KIND_ORDER = [
  "model-load",
  "prefill",
  "decode",
  "kv-move",
  "sql",
  "http",
  "function",
  "relational",
];
const LANE_PX = 26;
/** Fraction of a lane's band the bars use; the rest separates lanes. */
const BAND = 0.76;

export interface TimelineBar {
  lane: string;
  kind: string;
  start: number;
  end: number;
  /** Vertical extent in lane units (lane i spans [i, i + 1)). */
  y: number;
  y2: number;
  /** Tasks merged into this bar. */
  tasks: number;
  maxBatch: number;
  nodes: string;
  /** Set on bars drawn for several kinds of sub-pixel work: "decode 83%, prefill 17%". */
  mix?: string;
}

/** Packs overlapping tasks of one lane into slots (greedy by start time); returns slot per task. */
function assignSlots(tasks: TaskRecord[]): { slots: number[]; count: number } {
  const order = tasks.map((_, i) => i).sort((a, b) => tasks[a]!.startMs - tasks[b]!.startMs);
  const ends: number[] = [];
  const slots = new Array<number>(tasks.length);
  for (const i of order) {
    const t = tasks[i]!;
    let s = ends.findIndex((e) => e <= t.startMs + 1e-9);
    if (s < 0) s = ends.push(0) - 1;
    ends[s] = t.endMs;
    slots[i] = s;
  }
  return { slots, count: Math.max(1, ends.length) };
}

/** Busy intervals merged, then the holes between them and the run's edges. */
function idleGaps(tasks: TaskRecord[], wallMs: number, minMs: number): [number, number][] {
  const iv = tasks.map((t) => [t.startMs, t.endMs] as [number, number]).sort((a, b) => a[0] - b[0]);
  const gaps: [number, number][] = [];
  let cursor = 0;
  for (const [s, e] of iv) {
    if (s - cursor >= minMs) gaps.push([cursor, s]);
    cursor = Math.max(cursor, e);
  }
  if (wallMs - cursor >= minMs) gaps.push([cursor, wallMs]);
  return gaps;
}

/**
 * Dense slots (a 100 s run of 121 ms prefill+decode cycles is 1,650 sub-pixel bars per worker,
 * a 3 MB SVG) become one bar per run of pixel columns with the same dominant kind. Task counts
 * stay exact (each bar's tasks go to the column where it starts); `mix` lists the kinds' shares
 * of busy time for the tooltip.
 */
export function rasterizeBars(list: TimelineBar[], pixel: number): TimelineBar[] {
  interface Column {
    kinds: Map<string, number>;
    tasks: number;
    maxBatch: number;
    nodes: Set<string>;
  }
  const cols = new Map<number, Column>();
  const col = (c: number) => {
    let x = cols.get(c);
    if (!x) cols.set(c, (x = { kinds: new Map(), tasks: 0, maxBatch: 0, nodes: new Set() }));
    return x;
  };
  for (const b of list) {
    const first = Math.floor(b.start / pixel);
    const last = Math.max(first, Math.ceil(b.end / pixel) - 1);
    for (let c = first; c <= last; c++) {
      const overlap = Math.min(b.end, (c + 1) * pixel) - Math.max(b.start, c * pixel);
      const x = col(c);
      x.kinds.set(b.kind, (x.kinds.get(b.kind) ?? 0) + Math.max(overlap, 1e-9));
      x.maxBatch = Math.max(x.maxBatch, b.maxBatch);
      for (const n of b.nodes.split(", ")) if (n) x.nodes.add(n);
    }
    col(first).tasks += b.tasks;
  }
  const out: (TimelineBar & { shares: Map<string, number> })[] = [];
  const { lane, y, y2 } = list[0]!;
  for (const c of [...cols.keys()].sort((a, b) => a - b)) {
    const x = cols.get(c)!;
    let kind = "";
    let best = -1;
    for (const [k, ms] of x.kinds) if (ms > best) [kind, best] = [k, ms];
    const prev = out.at(-1);
    if (prev && prev.kind === kind && Math.abs(prev.end - c * pixel) < pixel * 1e-6) {
      prev.end = (c + 1) * pixel;
      prev.tasks += x.tasks;
      prev.maxBatch = Math.max(prev.maxBatch, x.maxBatch);
      for (const [k, ms] of x.kinds) prev.shares.set(k, (prev.shares.get(k) ?? 0) + ms);
      continue;
    }
    out.push({
      lane,
      kind,
      start: c * pixel,
      end: (c + 1) * pixel,
      y,
      y2,
      tasks: x.tasks,
      maxBatch: x.maxBatch,
      nodes: [...x.nodes].join(", "),
      shares: new Map(x.kinds),
    });
  }
  return out.map(({ shares, ...bar }) => {
    const total = [...shares.values()].reduce((a, b) => a + b, 0);
    const mix = [...shares.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => `${k} ${Math.round((100 * ms) / total)}%`)
      .join(", ");
    return shares.size > 1 ? { ...bar, mix } : bar;
  });
}

export interface TimelineData {
  lanes: string[];
  laneLabels: string[];
  bars: TimelineBar[];
  idle: { lane: string; start: number; end: number; y: number; y2: number }[];
}

export function timelineData(trace: RunTrace, widthPx = CHART_WIDTH): TimelineData {
  const wall = traceWallMs(trace);
  // Below ~0.6 px two bars cannot be told apart anyway.
  const pixel = wall / widthPx;
  const resolution = pixel * 0.6;
  const lanes = sortLanes(trace.tasks.map((t) => t.lane));
  const laneLabels: string[] = [];
  const bars: TimelineBar[] = [];
  const idle: TimelineData["idle"] = [];
  lanes.forEach((lane, li) => {
    const tasks = trace.tasks.filter((t) => t.lane === lane);
    const { slots, count } = assignSlots(tasks);
    laneLabels.push(count > 1 ? `${laneTitle(lane)} (${count} at once)` : laneTitle(lane));
    const top = li + (1 - BAND) / 2;
    const slotH = BAND / count;
    for (const [s, e] of idleGaps(tasks, wall, resolution * 3)) {
      idle.push({ lane, start: round2(s), end: round2(e), y: round2(top), y2: round2(top + BAND) });
    }
    // Merge per slot and kind, in start order.
    const open = new Map<string, TimelineBar & { nodeSet: Set<number> }>();
    const slotBars = new Map<string, TimelineBar[]>();
    const order = tasks.map((_, i) => i).sort((a, b) => tasks[a]!.startMs - tasks[b]!.startMs);
    const flush = (key: string) => {
      const b = open.get(key);
      if (!b) return;
      const { nodeSet, ...bar } = b;
      const list = slotBars.get(key) ?? [];
      list.push({ ...bar, nodes: [...nodeSet].sort((x, y) => x - y).join(", ") });
      slotBars.set(key, list);
      open.delete(key);
    };
    for (const i of order) {
      const t = tasks[i]!;
      const slot = slots[i]!;
      // One open bar per slot: a different kind on that slot closes the previous bar.
      const key = String(slot);
      const cur = open.get(key);
      // Decode steps of one batch are one continuous piece of work: always merge them. Other
      // tasks stay separate (each HTTP call is its own bar) unless both are too thin to see.
      const tiny = cur && cur.end - cur.start < 2 * pixel && t.endMs - t.startMs < 2 * pixel;
      if (
        cur &&
        cur.kind === t.kind &&
        t.startMs - cur.end <= resolution &&
        (t.kind === "decode" || tiny)
      ) {
        cur.end = Math.max(cur.end, t.endMs);
        cur.tasks += 1;
        cur.maxBatch = Math.max(cur.maxBatch, t.batchSize);
        for (const n of t.nodeIds) cur.nodeSet.add(n);
        continue;
      }
      flush(key);
      const y = top + slot * slotH;
      open.set(key, {
        lane,
        kind: t.kind,
        start: t.startMs,
        end: t.endMs,
        y: round2(y + (count > 1 ? slotH * 0.08 : 0)),
        y2: round2(y + slotH - (count > 1 ? slotH * 0.08 : 0)),
        tasks: 1,
        maxBatch: t.batchSize,
        nodes: "",
        nodeSet: new Set(t.nodeIds),
      });
    }
    for (const key of [...open.keys()]) flush(key);
    for (const list of slotBars.values()) {
      // More bars than half the pixels: draw what a screen can show, one kind per pixel column.
      if (list.length > widthPx / 2) bars.push(...rasterizeBars(list, pixel));
      else bars.push(...list);
    }
  });
  // At least one pixel wide, or a 1 ms filter step on a 3 s run would not show at all.
  for (const b of bars) {
    b.start = round2(b.start);
    b.end = round2(Math.max(b.end, b.start + pixel));
  }
  return { lanes, laneLabels, bars, idle };
}

export function timelineSpec(trace: RunTrace, widthPx = CHART_WIDTH): VegaLiteSpec {
  const { lanes, laneLabels, bars, idle } = timelineData(trace, widthPx);
  const wall = traceWallMs(trace);
  const kinds = KIND_ORDER.filter((k) => bars.some((b) => b.kind === k));
  for (const b of bars) if (!kinds.includes(b.kind)) kinds.push(b.kind);
  const domain = [...kinds, "idle"];
  const range = domain.map((k) => TASK_COLORS[k] ?? "#bab0ac");
  const rows = [
    ...idle.map((g) => ({ ...g, kind: "idle", tasks: 0, maxBatch: 0, nodes: "" })),
    ...bars,
  ].map((r) => ({
    mix: "",
    ...r,
    laneTitle: laneLabels[lanes.indexOf(r.lane)],
    dur: round2(r.end - r.start),
  }));
  const nLlm = lanes.filter((l) => l.startsWith("llm:")).length;
  const nTool = lanes.filter((l) => l.startsWith("tool:")).length;
  const subtitle = [
    `${formatMs(wall)} wall`,
    [
      nLlm ? `${nLlm} LLM worker${nLlm === 1 ? "" : "s"}` : "",
      nTool ? `${nTool} tool pool${nTool === 1 ? "" : "s"}` : "",
    ]
      .filter(Boolean)
      .join(", ") || "CPU only",
    `${trace.tasks.length} tasks`,
    "grey: idle",
  ];
  return styledSpec({
    title: { text: "Timeline: where the time went", subtitle: subtitleLines(subtitle) },
    width: widthPx,
    height: Math.max(1, lanes.length) * LANE_PX,
    data: { values: rows },
    // A hairline white stroke separates back-to-back tasks (consecutive HTTP calls on a slot).
    // aria: false drops the per-bar aria-label vega writes from every field (~300 bytes a bar,
    // two thirds of the SVG); the tooltip carries the same text.
    mark: { type: "rect", stroke: "white", strokeWidth: 0.4, aria: false },
    encoding: {
      x: {
        field: "start",
        type: "quantitative",
        title: "time since run start (ms)",
        scale: { domain: [0, round2(wall)], nice: false, zero: true },
        axis: { grid: true, gridColor: "#f0f0f0", tickCount: 8 },
      },
      x2: { field: "end" },
      y: {
        field: "y",
        type: "quantitative",
        title: null,
        scale: { domain: [0, Math.max(1, lanes.length)], reverse: true, nice: false, zero: false },
        axis: {
          values: lanes.map((_, i) => i + 0.5),
          labelExpr: `${JSON.stringify(laneLabels)}[floor(datum.value)]`,
          grid: false,
          ticks: false,
          domain: false,
          labelLimit: 220,
          labelPadding: 6,
        },
      },
      y2: { field: "y2" },
      color: {
        field: "kind",
        type: "nominal",
        title: "task",
        scale: { domain, range },
        legend: { orient: "bottom", direction: "horizontal", columns: Math.min(domain.length, 8) },
      },
      tooltip: [
        { field: "laneTitle", title: "lane" },
        { field: "kind", title: "kind" },
        { field: "start", title: "start (ms)", format: ",.1f" },
        { field: "dur", title: "duration (ms)", format: ",.1f" },
        { field: "tasks", title: "tasks merged" },
        { field: "maxBatch", title: "max batch" },
        { field: "nodes", title: "plan nodes" },
        { field: "mix", title: "mixed work" },
      ],
    },
  });
}
