// Runs each named system over one workload's queries in turn, in this process, on the same
// database, tool server and inputs, and measures it: wall seconds, peak RSS, CPU busy, the
// counters it reports, HTTP calls the tool server saw, and a hash of its result frame.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { session } from "../../src/frame/session.ts";
import type { Profile } from "../../src/cost/profile.ts";
import { countNodes } from "../workloads/graph.ts";
import { computeFloor } from "./floor.ts";
import { gapProfile } from "./gap-profile.ts";
import { hashRows } from "./hash.ts";
import { bestLlmRates } from "./llm-rates.ts";
import { runReferencePass, type ReferencePassOptions } from "./reference-pass.ts";
import { startResourceMonitor } from "./resources.ts";
import type { ToolServerHandle } from "../http-tools/spawn.ts";
import type { GeneratedInputs } from "../workloads/inputs.ts";
import type { WorkflowShape } from "../workloads/types.ts";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { MeasuredFloor, System, SystemMeasurement, WorkloadResult } from "./types.ts";

/** What the floor needs beside the workload (floor.ts). */
export interface FloorSetup extends ReferencePassOptions {
  /** The calibrated profile of the model in this folder, if there is one. */
  profile(modelDir: string): Promise<Profile | undefined>;
}

export interface RunWorkloadOptions {
  shape: WorkflowShape;
  inputs: GeneratedInputs;
  systems: readonly System[];
  db: DuckDBConnection;
  instance: DuckDBInstance;
  toolServer: Pick<ToolServerHandle, "url" | "stats" | "resetStats">;
  seed: number;
  signal?: AbortSignal;
  /** Called after each system, e.g. to print progress. */
  onSystem?: (m: SystemMeasurement) => void;
  /** Computes the workload's floor first (a reference pass, untimed) when given. */
  floor?: FloorSetup;
  /**
   * Writes each traced system's run trace here as <workload>-<system>.json (every forward call's
   * shape and time, every tool call): what the gap line sums, call by call.
   */
  tracesDir?: string;
}

export function roleOf(system: System): "halo" | "baseline" | "ablation" {
  if (system.role) return system.role;
  if (system.name === "halo") return "halo";
  return system.name.startsWith("halo-") ? "ablation" : "baseline";
}

function finalColumn(shape: WorkflowShape): string {
  return shape.nodes.find((n) => n.id === shape.final)!.output;
}

/** Checks a system's rows: one per input, same qids in input order, the final column present. */
function checkRows(
  shape: WorkflowShape,
  inputs: GeneratedInputs,
  rows: Record<string, unknown>[],
): string | undefined {
  if (rows.length !== inputs.rows.length)
    return `returned ${rows.length} rows for ${inputs.rows.length} queries`;
  const col = finalColumn(shape);
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]!.qid !== inputs.rows[i]!.qid)
      return `row ${i} has qid ${String(rows[i]!.qid)}, expected ${inputs.rows[i]!.qid} (rows must keep input order)`;
    if (!(col in rows[i]!)) return `row ${i} lacks the final column '${col}'`;
  }
  return undefined;
}

/** The workload's floor: its reference pass, then the formula with each model's best rates. */
async function measureFloor(
  options: RunWorkloadOptions,
  setup: FloorSetup,
): Promise<MeasuredFloor> {
  const pass = await runReferencePass(
    options.shape,
    options.inputs.rows,
    {
      db: options.db,
      instance: options.instance,
      toolServerUrl: options.toolServer.url,
      seed: options.seed,
      signal: options.signal,
    },
    setup,
  );
  const profiles = new Map<string, Profile | undefined>();
  for (const dir of new Set(pass.calls.llm.map((c) => c.modelDir)))
    profiles.set(dir, await setup.profile(dir));
  const floor = computeFloor(options.shape, pass.calls, (dir, distinct) =>
    bestLlmRates(profiles.get(dir), pass.forwards.get(dir) ?? [], distinct),
  );
  return { ...floor, referencePassSeconds: pass.seconds };
}

export async function runWorkload(options: RunWorkloadOptions): Promise<WorkloadResult> {
  const { shape, inputs, systems } = options;
  const counts = countNodes(shape);
  const queries = inputs.rows.length;
  const hashColumns = ["qid", finalColumn(shape)];
  const measurements: SystemMeasurement[] = [];
  const notes: string[] = [];
  // Before the systems: the pass also leaves the tool server's bodies computed and the model's
  // session warm, so the first system timed pays for neither.
  let floor: MeasuredFloor | null = null;
  let floorError: string | null = null;
  if (options.floor)
    try {
      floor = await measureFloor(options, options.floor);
    } catch (e) {
      floorError = e instanceof Error ? e.message : String(e);
      notes.push(`no floor: its reference pass failed: ${floorError}`);
    }
  for (const system of systems) {
    await options.toolServer.resetStats();
    // Every system starts with a cold prefix cache: without this, a system run after halo would
    // find halo's KV in the process-wide cache and look faster than it is.
    session.processor.dropWorkers();
    (globalThis as { gc?: () => void }).gc?.();
    const monitor = startResourceMonitor();
    const started = performance.now();
    let error: string | undefined;
    let output: Awaited<ReturnType<System["run"]>> | undefined;
    try {
      output = await system.run(shape, inputs.rows, {
        db: options.db,
        instance: options.instance,
        toolServerUrl: options.toolServer.url,
        seed: options.seed,
        signal: options.signal,
      });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const seconds = (performance.now() - started) / 1000;
    const resources = monitor.stop();
    const server = await options.toolServer.stats();
    if (output && !error) error = checkRows(shape, inputs, output.rows);
    const counters = output?.counters ?? {};
    if (options.tracesDir && output?.trace)
      writeFileSync(
        join(options.tracesDir, `${shape.name}-${system.name}.json`),
        JSON.stringify(output.trace),
      );
    const tc = counters.toolCalls ?? {};
    const m: SystemMeasurement = {
      name: system.name,
      role: roleOf(system),
      seconds,
      peakRssMb: resources.peakRssMb,
      cpuBusy: resources.cpuBusy,
      counters,
      httpExecuted: server.requests,
      toolCallsExecuted: (tc.sql ?? 0) + (tc.function ?? 0) + server.requests,
      outputHash: output && !error ? hashRows(output.rows, hashColumns) : "",
      gap: floor && output?.trace ? gapProfile(output.trace, seconds, floor) : undefined,
      error,
    };
    if (error) notes.push(`${system.name} failed: ${error}`);
    if (tc.http !== undefined && tc.http !== server.requests)
      notes.push(
        `${system.name} reports ${tc.http} HTTP calls, the tool server saw ${server.requests}`,
      );
    measurements.push(m);
    options.onSystem?.(m);
  }

  const ok = measurements.filter((m) => !m.error);
  const identicalOutputs =
    ok.length >= 2 && ok.length === measurements.length
      ? ok.every((m) => m.outputHash === ok[0]!.outputHash)
      : ok.length >= 2
        ? false
        : null;
  if (identicalOutputs === null)
    notes.push(`fewer than two systems completed: output identity not checked`);
  const halo = ok.find((m) => m.role === "halo");
  const baselines = ok.filter((m) => m.role === "baseline").sort((a, b) => a.seconds - b.seconds);
  const best = baselines[0];
  const speedupVsBest = halo && best ? best.seconds / halo.seconds : null;
  if (speedupVsBest === null) notes.push("no speedup: needs both halo and at least one baseline");
  return {
    name: shape.name,
    queries,
    repeatRate: inputs.realizedRepeatRate,
    counts,
    toolCallsRequested: queries * counts.tools,
    systems: measurements,
    identicalOutputs,
    speedupVsBest,
    bestBaseline: best?.name ?? null,
    floor,
    floorError,
    notes,
  };
}
