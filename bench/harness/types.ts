// The harness's contracts: what a compared system implements (halo, per-request, opwise,
// langgraph and the ablations plug in here), what it is given, and what the harness records.
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { RunTrace } from "../../src/processor/trace/trace.ts";
import type { Floor } from "./floor.ts";
import type { GapProfile } from "./gap-profile.ts";
import type { InputRow } from "../workloads/inputs.ts";
import type { WorkflowShape } from "../workloads/types.ts";

/** What a system reports about its own run; every field optional (a baseline without a prefix
 * cache has no hit rate). Counts are totals over all queries of the run. */
export interface SystemCounters {
  prefillTokens?: number;
  decodeTokens?: number;
  /** Prompt tokens served from a KV cache instead of computed. */
  cachedTokens?: number;
  /** cachedTokens / (cachedTokens + prefillTokens) when the system computes it otherwise. */
  cacheHitRate?: number;
  llmCalls?: number;
  /** Tool calls the system actually executed, by kind (after any deduplication). */
  toolCalls?: { sql?: number; http?: number; function?: number };
  /** Time its planner/optimizer took, ms. */
  plannerMs?: number;
  /** Fraction of wall time the accelerator (if any) was busy, 0..1. */
  gpuBusy?: number;
}

export interface RunContext {
  /** DuckDB with the workload's dataset loaded (the SQL tools' database). */
  db: DuckDBConnection;
  /** The instance behind `db`: systems open a connection per concurrent query on it. */
  instance: DuckDBInstance;
  /** Base URL of the tool server; an HTTP node's URL is `${toolServerUrl}${route}?${query}`. */
  toolServerUrl: string;
  seed: number;
  signal?: AbortSignal;
}

export interface SystemOutput {
  /** One row per input, in input order, with at least `qid` and the final node's output. */
  rows: Record<string, unknown>[];
  counters: SystemCounters;
  /** Its run trace, when it keeps one (halo: `lastRun.trace`): where its time went. */
  trace?: RunTrace;
}

export interface System {
  name: string;
  /** "halo" for the system under test, "ablation" for halo with a feature off, otherwise a
   * baseline. Default: from the name ("halo", "halo-*", anything else). */
  role?: "halo" | "baseline" | "ablation";
  run(workload: WorkflowShape, inputs: InputRow[], ctx: RunContext): Promise<SystemOutput>;
}

export interface SystemMeasurement {
  name: string;
  role: "halo" | "baseline" | "ablation";
  seconds: number;
  peakRssMb: number;
  /** Process CPU time / (wall x cores), 0..1. */
  cpuBusy: number;
  counters: SystemCounters;
  /** HTTP requests the tool server received during this system's run. */
  httpExecuted: number;
  /** Tool calls executed: the system's own sql + function counts and the server's HTTP count. */
  toolCallsExecuted: number;
  /** sha256 of the result frame (qid and final output, canonical JSON). */
  outputHash: string;
  /** Where its time went against the floor, when it has a trace and the run a floor. */
  gap?: GapProfile;
  error?: string;
}

export interface WorkloadResult {
  name: string;
  queries: number;
  repeatRate: number;
  counts: { llm: number; tools: number };
  /** Tool calls the workflow asks for: queries x tool nodes. */
  toolCallsRequested: number;
  systems: SystemMeasurement[];
  /** True when at least two systems ran and all hashes match; null when fewer than two ran. */
  identicalOutputs: boolean | null;
  /** Best (fastest) baseline's seconds / halo's seconds; null without halo or a baseline. */
  speedupVsBest: number | null;
  bestBaseline: string | null;
  /** The workload's floor (floor.ts); null when the run did not compute one. */
  floor: MeasuredFloor | null;
  /** Why the floor asked for could not be computed (its reference pass failed): fails the run. */
  floorError: string | null;
  notes: string[];
}

export interface MeasuredFloor extends Floor {
  /** Wall seconds of the reference pass the floor came from (untimed for every system). */
  referencePassSeconds: number;
}

/** The `--json` file: issue 9's format (keys as specified; null where a figure does not exist). */
export interface BenchJson {
  machine: Record<string, unknown>;
  workloads: {
    name: string;
    queries: number;
    identicalOutputs: boolean | null;
    systems: Record<
      string,
      {
        seconds: number;
        prefillTokens: number | null;
        decodeTokens: number | null;
        toolCalls: number;
        peakRssMb: number;
        /** seconds / the workload's floor; null without a floor. */
        vsFloor: number | null;
        /** Where its time went against the floor (gap-profile.ts); null without a trace. */
        gap: GapProfile | null;
      }
    >;
    speedupVsBest: number | null;
    floorSeconds: number | null;
    floor: {
      llmSeconds: number;
      toolSeconds: number;
      bound: "llm" | "tools";
      prefillTokens: number;
      decodeTokens: number;
      models: {
        modelDir: string;
        prefillTokens: number;
        decodeTokens: number;
        prefillTokensPerSecond: number | null;
        prefillRateFrom: string;
        decodeTokensPerSecond: number | null;
        decodeRateFrom: string;
        seconds: number;
      }[];
      criticalPath: { node: string; kind: string; ms: number }[];
      calls: { llm: number; distinctLlm: number; tools: number; distinctTools: number };
      referencePassSeconds: number;
    } | null;
  }[];
  online: {
    name: string;
    queries: number;
    offeredQps: number[];
    identicalOutputs: boolean | null;
    systems: Record<
      string,
      {
        saturationQps: number;
        p50Ms: number;
        p99Ms: number;
        batches: number | null;
        byRate: { offeredQps: number; qps: number; p50Ms: number; p99Ms: number }[];
      }
    >;
    throughputVsBest: number | null;
    /** queries / the batch floor's seconds: no system can sustain more; null without a floor. */
    floorQps: number | null;
  }[];
  notes: string[];
}
