// Where a run's share of long-lived machinery is recorded. The Processor's LLM workers, KV tiers
// and exchanges serve every run of the session, so they keep no trace of their own: each request
// carries its run's sink, and a forward call that held sequences of several runs (two mini-batches
// of `halo serve` in one continuous batch) becomes one task in each of those runs' traces, with
// that run's nodes and tokens and a note of what the other runs had in it.
import type { KvMigrationStats, TaskKind, TaskRecord } from "./trace.ts";
import type { OpenTask, TraceRecorder } from "./trace-recorder.ts";
import { tokensByNode } from "./node-shares.ts";

export interface RunSink {
  readonly trace: TraceRecorder;
  /** The run's lane for the worker running the request ("llm:0"). */
  readonly lane: string;
  /** The run's lane for another worker of the same model, by replica (KV moves name both). */
  laneOf?(replica: number): string;
  /** Moves of KV between the model's workers made for this run's requests. */
  readonly migration?: KvMigrationStats;
}

/** A batch member: the plan nodes it serves and the run it belongs to. */
export interface SinkTagged {
  readonly nodeIds: readonly number[];
  readonly sink: RunSink | undefined;
}

interface Group<T> {
  sink: RunSink;
  members: T[];
  task: OpenTask;
}

/**
 * The tasks of one forward call: one per run with members in it, opened when the call starts.
 * Members without a sink (a worker used on its own, untraced) are only counted as others.
 */
export class BatchTasks<T extends SinkTagged> {
  private readonly groups: Group<T>[] = [];

  constructor(
    private readonly batch: readonly T[],
    kind: TaskKind,
  ) {
    const bySink = new Map<RunSink, T[]>();
    for (const m of batch) {
      if (!m.sink) continue;
      const list = bySink.get(m.sink);
      if (list) list.push(m);
      else bySink.set(m.sink, [m]);
    }
    for (const [sink, members] of bySink) {
      const ids = new Set<number>();
      for (const m of members) for (const id of m.nodeIds) ids.add(id);
      const task = sink.trace.begin(
        sink.lane,
        kind,
        [...ids].sort((a, b) => a - b),
      );
      this.groups.push({ sink, members, task });
    }
  }

  /**
   * Closes every run's task: its tokens (`tokensOf` each member: new prompt tokens, or 1 for a
   * decode step) split by node, `fields` of its own members, and the rest of the batch as
   * `sharedWith` when other runs' sequences were in the call.
   */
  end(
    tokensOf: (member: T) => number,
    fields: (members: readonly T[]) => Partial<TaskRecord>,
  ): void {
    let total = 0;
    for (const m of this.batch) total += tokensOf(m);
    for (const g of this.groups) {
      let own = 0;
      for (const m of g.members) own += tokensOf(m);
      const others = this.batch.length - g.members.length;
      g.task.end({
        batchSize: this.batch.length,
        ...fields(g.members),
        ...tokensByNode(g.members, tokensOf),
        ...(others > 0 && { sharedWith: { sequences: others, tokens: total - own } }),
      });
    }
  }

  /**
   * Closes every run's task of a wait that computed nothing (a model load): no tokens, and no
   * `sharedWith`, which describes forward calls. Its batch size is the run's own waiting requests.
   */
  endWait(): void {
    for (const g of this.groups) g.task.end({ batchSize: g.members.length });
  }

  fail(error: unknown): void {
    for (const g of this.groups) g.task.end({ batchSize: this.batch.length, error: String(error) });
  }
}
