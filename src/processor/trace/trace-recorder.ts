// Collects what a run did into the `RunTrace` contract (trace.ts) that `halo.lastRun` and the
// timeline charts read. Every task is timed against one run clock, so lanes line up.
import type { NodeStats, RunTrace, TaskKind, TaskRecord } from "./trace.ts";

/** A task that has started; `end` closes it and records it once. */
export interface OpenTask {
  readonly startMs: number;
  end(fields?: Partial<Omit<TaskRecord, "lane" | "kind" | "startMs" | "endMs">>): TaskRecord;
}

export class TraceRecorder {
  readonly startedAt: string;
  private readonly t0: number;
  private readonly tasks: TaskRecord[] = [];
  private readonly nodes = new Map<number, NodeStats>();
  plannerMs?: number;
  plan?: string;

  /** `now` is injectable so tests can drive the clock; default `performance.now()`. */
  constructor(private readonly now: () => number = () => performance.now()) {
    this.t0 = now();
    this.startedAt = new Date().toISOString();
  }

  /** Milliseconds since the run started. */
  elapsedMs(): number {
    return this.now() - this.t0;
  }

  /** Records a finished task as is. */
  record(task: TaskRecord): void {
    if (!(task.endMs >= task.startMs)) {
      throw new RangeError(
        `trace task on lane ${task.lane} ends (${task.endMs} ms) before it starts (${task.startMs} ms)`,
      );
    }
    this.tasks.push(task);
  }

  /** Starts a task now; call `end()` when it finishes. */
  begin(lane: string, kind: TaskKind, nodeIds: readonly number[] = []): OpenTask {
    const startMs = this.elapsedMs();
    let done: TaskRecord | undefined;
    return {
      startMs,
      end: (fields = {}) => {
        if (done) return done;
        done = {
          batchSize: 1,
          ...fields,
          nodeIds: fields.nodeIds ?? [...nodeIds],
          lane,
          kind,
          startMs,
          endMs: this.elapsedMs(),
        };
        this.tasks.push(done);
        return done;
      },
    };
  }

  /** Adds to a plan node's totals (created on first use). */
  addNodeStats(
    nodeId: number,
    init: { label: string; kind: string },
    delta: Partial<Omit<NodeStats, "nodeId" | "label" | "kind">>,
  ): NodeStats {
    let stats = this.nodes.get(nodeId);
    if (!stats) {
      stats = {
        nodeId,
        label: init.label,
        kind: init.kind,
        rows: 0,
        calls: 0,
        measuredMs: 0,
        prefillTokens: 0,
        cachedTokens: 0,
        decodeTokens: 0,
      };
      this.nodes.set(nodeId, stats);
    }
    for (const [name, value] of Object.entries(delta) as [keyof NodeStats, number][]) {
      if (value === undefined) continue;
      const current = stats[name];
      // Counters add up; estimates and predictions are set once by whoever knows them.
      (stats as unknown as Record<string, number>)[name] =
        typeof current === "number" && !isSetOnce(name) ? current + value : value;
    }
    return stats;
  }

  /** Tasks recorded so far (a copy), in recording order. */
  listTasks(): TaskRecord[] {
    return [...this.tasks];
  }

  /** The finished trace: tasks sorted by start, nodes by id. */
  finish(): RunTrace {
    const trace: RunTrace = {
      startedAt: this.startedAt,
      wallMs: this.elapsedMs(),
      tasks: [...this.tasks].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs),
      nodes: [...this.nodes.values()].sort((a, b) => a.nodeId - b.nodeId),
    };
    if (this.plannerMs !== undefined) trace.plannerMs = this.plannerMs;
    if (this.plan !== undefined) trace.plan = this.plan;
    return trace;
  }
}

function isSetOnce(name: keyof NodeStats): boolean {
  return name === "estimatedMs" || name === "predictedCacheHits";
}

/** Sum of busy time per lane, overlapping tasks on one lane counted once. */
export function busyMsByLane(tasks: readonly TaskRecord[]): Map<string, number> {
  const byLane = new Map<string, TaskRecord[]>();
  for (const t of tasks) {
    const list = byLane.get(t.lane) ?? [];
    list.push(t);
    byLane.set(t.lane, list);
  }
  const out = new Map<string, number>();
  for (const [lane, list] of byLane) {
    list.sort((a, b) => a.startMs - b.startMs);
    let busy = 0;
    let curStart = -Infinity;
    let curEnd = -Infinity;
    for (const t of list) {
      if (t.startMs > curEnd) {
        if (curEnd > curStart) busy += curEnd - curStart;
        curStart = t.startMs;
        curEnd = t.endMs;
      } else curEnd = Math.max(curEnd, t.endMs);
    }
    if (curEnd > curStart) busy += curEnd - curStart;
    out.set(lane, busy);
  }
  return out;
}
