// The one description of the machine the Processor runs on and the optimizer plans for: KV memory
// per LLM worker and its host tier, decode batch limits and the admission rule, LLM workers per
// model, tool concurrency per kind, and the Processor's feature switches (the ablations). Built
// once per session from what this machine has (memory, cores, provider), changed by the user
// (`halo.processor.configure({...})`, or per run with `collect({ processor: {...} })`), and read
// by both sides: the Processor's workers and tool pool, and the optimizer's context
// (src/optimizer/context.ts), so the plan's simulated cache and the real one use the same budget.
// Every default is written here and nowhere else.
import { availableParallelism, freemem, totalmem } from "node:os";
import type { ToolKind } from "./tools/tool-pool.ts";
import { ADMISSION_DEFAULTS } from "./llm/admission.ts";
import { BATCH_SIZER_DEFAULTS } from "./llm/batch-sizer.ts";

/** What the defaults follow. */
export interface Machine {
  /** Cores the OS gives this process. */
  cores: number;
  /** Memory free when the Processor was created, and in all (bytes). */
  freeBytes: number;
  totalBytes: number;
  /** Where LLM forwards run: "cpu" here; an accelerator provider keeps KV in its own memory. */
  provider: string;
}

export interface KvConfig {
  /**
   * KV memory per LLM worker: its running sequences' worst-case reservations plus its prefix
   * cache's fast tier. One sequence always runs, so a budget too small degrades to batch 1.
   */
  budgetBytes: number;
  /** A host tier per worker for prefixes evicted from the fast tier; 0 turns it off. */
  hostBudgetBytes: number;
  /** Reuse the KV of shared prompt prefixes (ablation switch). */
  prefixCache: boolean;
  /** Move a waiting request's cold prefix in during the step before its turn. */
  prefetch: boolean;
}

export interface BatchConfig {
  /** Decode batch limit the BatchSizer starts at, and its bounds (batch-sizer.ts). */
  initial: number;
  min: number;
  max: number;
  /** A decode step slower than this halves the limit. */
  maxStepMs: number;
  /** Most new tokens in one prefill call (admission.ts). */
  prefillTokenBudget: number;
  /** A prompt sharing this many uncached tokens with one admitted this round waits a round. */
  deferSharedTokens: number;
}

export interface LlmConfig {
  /** Workers per model, each its own model session and prefix cache (1-8). */
  workersPerModel: number;
  /** Continuous batching over the model's forward when it has one (ablation switch). */
  continuousBatching: boolean;
  /**
   * Run each worker's model session (a local ONNX model's) in a worker thread of its own, so a
   * forward never blocks the JS thread that runs tools, the kernel and the server; false runs it
   * in-process on the JS thread. With continuous batching only (without it, `generate` runs).
   */
  modelThreads: boolean;
}

export interface ToolsConfig {
  /** Calls running at once per kind, for the whole Processor (every run shares them). */
  limits: Record<ToolKind, number>;
  /** Calls waiting per kind before a producer waits. */
  queueLimit: number;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries of transient failures. */
  retries: number;
  /** Cache equal tool calls' results within a run (ablation switch). */
  cache: boolean;
}

export interface ProcessorConfig {
  machine: Machine;
  kv: KvConfig;
  batch: BatchConfig;
  llm: LlmConfig;
  tools: ToolsConfig;
}

/** What a user sets: any part of any section (`machine` is measured, not set). */
export type ProcessorSettings = {
  [S in Exclude<keyof ProcessorConfig, "machine">]?: S extends "tools"
    ? Partial<Omit<ToolsConfig, "limits">> & { limits?: Partial<ToolsConfig["limits"]> }
    : Partial<ProcessorConfig[S]>;
};

/** Most workers per model: each is a model session (memory) sharing this machine's cores. */
export const MAX_WORKERS_PER_MODEL = 8;

const MIB = 2 ** 20;

export function thisMachine(): Machine {
  return {
    cores: availableParallelism(),
    freeBytes: freemem(),
    totalBytes: totalmem(),
    provider: "cpu",
  };
}

/** The defaults for a machine: every default the Processor and the optimizer use. */
export function defaultConfig(machine: Machine = thisMachine()): ProcessorConfig {
  // KV shares main memory with the weights, DuckDB, frames and the kernel on a CPU: a quarter of
  // what is free leaves room for them (the calibration's rule), with a floor so a tiny machine
  // still batches. Erring low is safe: the worker degrades to smaller batches, never fails.
  const budgetBytes = Math.max(64 * MIB, Math.floor(machine.freeBytes / 4));
  return {
    machine,
    kv: {
      budgetBytes,
      // On a CPU both tiers are main memory (a move is bookkeeping), so the host tier is extra
      // cache room of the same size; on an accelerator it is host memory beside device memory.
      hostBudgetBytes: budgetBytes,
      prefixCache: true,
      prefetch: true,
    },
    // The batch sizer's and the admission rule's own, where the measurements behind them are.
    batch: {
      initial: BATCH_SIZER_DEFAULTS.initial,
      min: BATCH_SIZER_DEFAULTS.min,
      max: BATCH_SIZER_DEFAULTS.max,
      maxStepMs: BATCH_SIZER_DEFAULTS.maxStepMs,
      prefillTokenBudget: ADMISSION_DEFAULTS.prefillTokenBudget,
      deferSharedTokens: ADMISSION_DEFAULTS.deferSharedTokens,
    },
    // Model threads: the main thread's event loop stays responsive during forwards (measured in
    // docs/processor.md, "Model threads"), at the cost of a second session load per worker.
    llm: { workersPerModel: 1, continuousBatching: true, modelThreads: true },
    tools: {
      // SQL and functions compete with the model for the cores: one call per core; HTTP waits on
      // the network and costs no CPU, so many at once.
      limits: { sql: machine.cores, http: 16, function: machine.cores },
      queueLimit: 1024,
      timeoutMs: 30_000,
      retries: 2,
      cache: true,
    },
  };
}

const SECTIONS = ["kv", "batch", "llm", "tools"] as const;

type Check = (value: unknown) => string | undefined;
const bytes: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? undefined : "a number of bytes >= 0";
const flag: Check = (v) => (typeof v === "boolean" ? undefined : "true or false");
const count =
  (min: number, max = Infinity): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max
      ? undefined
      : `an integer from ${min}${max === Infinity ? " up" : ` to ${max}`}`;
const ms: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? undefined : "a number of ms > 0";

const CHECKS: Record<(typeof SECTIONS)[number], Record<string, Check>> = {
  kv: { budgetBytes: bytes, hostBudgetBytes: bytes, prefixCache: flag, prefetch: flag },
  batch: {
    initial: count(1),
    min: count(1),
    max: count(1),
    maxStepMs: ms,
    prefillTokenBudget: count(1),
    deferSharedTokens: count(1),
  },
  llm: {
    workersPerModel: count(1, MAX_WORKERS_PER_MODEL),
    continuousBatching: flag,
    modelThreads: flag,
  },
  tools: {
    limits: () => undefined,
    queueLimit: count(1),
    timeoutMs: ms,
    retries: count(0),
    cache: flag,
  },
};
const TOOL_KINDS: readonly ToolKind[] = ["sql", "http", "function"];

function describe(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/**
 * `base` with `settings` applied, checked field by field: an unknown section or field, or a value
 * of the wrong kind, throws an error naming it and what it takes. `where` prefixes the message.
 */
export function applySettings(
  base: ProcessorConfig,
  settings: ProcessorSettings | undefined,
  where: string,
): ProcessorConfig {
  if (settings === undefined) return base;
  if (!settings || typeof settings !== "object" || Array.isArray(settings))
    throw new TypeError(`${where}: expected an object such as { kv: { budgetBytes: 2 ** 28 } }`);
  const out: ProcessorConfig = {
    machine: base.machine,
    kv: { ...base.kv },
    batch: { ...base.batch },
    llm: { ...base.llm },
    tools: { ...base.tools, limits: { ...base.tools.limits } },
  };
  for (const [section, fields] of Object.entries(settings)) {
    if (!(SECTIONS as readonly string[]).includes(section))
      throw new TypeError(
        `${where}: unknown section '${section}'; the sections are ${SECTIONS.join(", ")}`,
      );
    if (fields === undefined) continue;
    if (!fields || typeof fields !== "object" || Array.isArray(fields))
      throw new TypeError(`${where}.${section}: expected an object of settings`);
    const checks = CHECKS[section as (typeof SECTIONS)[number]];
    const target = out[section as (typeof SECTIONS)[number]] as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
      if (value === undefined) continue;
      const check = checks[name];
      if (!check)
        throw new TypeError(
          `${where}.${section}: unknown setting '${name}'; the settings are ${Object.keys(checks).join(", ")}`,
        );
      if (section === "tools" && name === "limits") {
        applyLimits(out.tools.limits, value, `${where}.tools.limits`);
        continue;
      }
      const wrong = check(value);
      if (wrong)
        throw new TypeError(
          `${where}.${section}.${name}: expected ${wrong}, got ${describe(value)}`,
        );
      target[name] = value;
    }
  }
  const b = out.batch;
  if (!(b.min <= b.initial && b.initial <= b.max))
    throw new RangeError(
      `${where}.batch: needs min <= initial <= max (got min ${b.min}, initial ${b.initial}, max ${b.max})`,
    );
  return out;
}

function applyLimits(limits: Record<ToolKind, number>, value: unknown, where: string): void {
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(`${where}: expected { sql, http, function } concurrency limits`);
  for (const [kind, n] of Object.entries(value as Record<string, unknown>)) {
    if (!(TOOL_KINDS as readonly string[]).includes(kind))
      throw new TypeError(`${where}: unknown tool kind '${kind}'; use ${TOOL_KINDS.join(", ")}`);
    const wrong = count(1)(n);
    if (wrong) throw new TypeError(`${where}.${kind}: expected ${wrong}, got ${describe(n)}`);
    limits[kind as ToolKind] = n as number;
  }
}

/**
 * The settings that shape an LLM worker (its KV budget and tiers, batching, admission): workers
 * made under equal shapes are the same workers, kept across runs; a run that overrides one of
 * these gets workers of its own shape (kept too, for the next run with that shape).
 */
export function workerShape(config: ProcessorConfig): string {
  const { kv, batch, llm } = config;
  return JSON.stringify([kv, batch, llm.continuousBatching, llm.modelThreads]);
}
