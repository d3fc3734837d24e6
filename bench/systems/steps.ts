// The baselines' engine room: each shape node as a step `row -> value`, built from the Halo plan's
// own node arguments (lowered without optimization) with the frame's request builders
// (src/executor/row-ops.ts) and tools (the same SQL database, HTTP tool and functions), so a tool
// result becomes prompt text exactly as in the frame. LLM calls go to one LlmWorker per model
// (continuous batching, prefix cache), shared by every query of the run: what a vLLM-style server
// gives a client. What differs between baselines is only the order they await steps in.
import { defaultServices } from "../../src/frame/collect.ts";
import { loadModel } from "../../src/frame/models.ts";
import {
  callKey,
  fnRequest,
  httpRequest,
  llmMessages,
  llmSampling,
  sqlRequest,
} from "../../src/executor/row-ops.ts";
import type { LlmModel } from "../../src/executor/types.ts";
import { LlmWorker } from "../../src/processor/llm/llm-worker.ts";
import type { PlanNode, Row } from "../../src/plan/types.ts";
import type { Model } from "../../src/runtime/model.ts";
import type { GenerateResult } from "../../src/runtime/types.ts";
import type { TraceRecorder } from "../../src/processor/trace/trace-recorder.ts";
import type { SystemCounters } from "../harness/types.ts";
import { edgesOf, topoOrder } from "../workloads/graph.ts";
import type { InputRow } from "../workloads/inputs.ts";
import type { WorkflowShape } from "../workloads/types.ts";
import { buildFrame, type PlanEnv } from "./plan.ts";
import { RuntimeEngine, type RuntimeKv } from "../../src/processor/llm/runtime-engine.ts";

export interface Step {
  /** The shape node's id. */
  id: string;
  output: string;
  /** Shape nodes whose outputs this one reads (input columns excluded). */
  deps: string[];
  run(row: Row, signal?: AbortSignal): Promise<unknown>;
}

export interface StepOptions {
  /** Reuse KV of shared prompt prefixes in the LlmWorker (default true). */
  prefixCache?: boolean;
  /** KV memory per model worker (default: the worker's, the Processor config's default). */
  kvBudgetBytes?: number;
  /** Run each distinct request once per StepSet: equal calls share the first one's answer. */
  mergeEqualCalls?: boolean;
  /** Told about every call once it is answered (the floor's reference pass records them). */
  onCall?: (call: StepCall) => void;
  /** Records the LLM workers' prefill calls and decode steps, on lane `llm:<model folder>`. */
  trace?: TraceRecorder;
}

/** One call a step made, as `StepOptions.onCall` hears of it. */
export interface StepCall {
  /** The shape node's id. */
  node: string;
  /** The query: the input row's qid. */
  qid: unknown;
  kind: "llm" | "sql" | "http" | "function";
  /** The request, canonical (row-ops callKey plus the kind): equal keys, equal answers. */
  key: string;
  /** Milliseconds from this call's request to its answer. */
  ms: number;
  /** An equal earlier call answered it (mergeEqualCalls): nothing ran for it. */
  merged: boolean;
  /** LLM calls: the model's folder, the prompt's tokens and the answer. */
  llm?: { modelDir: string; promptTokens: readonly number[]; result: GenerateResult };
  /** HTTP calls: the URL asked. */
  url?: string;
  /** Tool calls: makes the same request again (to time it alone). */
  repeat?: () => Promise<unknown>;
}

/** Steps of one run plus what they did; make a new one per system run (fresh caches). */
export class StepSet {
  /** In a topological order of the shape. */
  readonly steps: Step[];
  private readonly workers = new Map<string, Promise<LlmWorker<RuntimeKv>>>();
  private llmCalls = 0;
  private readonly tools = { sql: 0, http: 0, function: 0 };
  /** Answers by request key, when equal calls are merged. */
  private readonly answers = new Map<string, Promise<unknown>>();

  constructor(
    shape: WorkflowShape,
    inputs: readonly InputRow[],
    env: PlanEnv,
    private readonly options: StepOptions = {},
  ) {
    const { frame } = buildFrame(shape, inputs, env);
    const dag = frame.plan({ optimized: false });
    const byLabel = new Map<string, PlanNode>(dag.nodes.map((n) => [n.label, n]));
    const deps = new Map<string, Set<string>>(shape.nodes.map((n) => [n.id, new Set<string>()]));
    for (const e of edgesOf(shape)) if (e.from !== "input") deps.get(e.to)!.add(e.from);
    this.steps = topoOrder(shape).map((n) => {
      const node = byLabel.get(n.id);
      if (!node) throw new Error(`${shape.name}: the plan has no node labelled '${n.id}'`);
      return { id: n.id, output: n.output, deps: [...deps.get(n.id)!], run: this.stepFor(node) };
    });
  }

  private worker(model: LlmModel): Promise<LlmWorker<RuntimeKv>> {
    let w = this.workers.get(model.id);
    if (!w) {
      w = Promise.resolve(
        new LlmWorker(new RuntimeEngine(model as Model), {
          cache: this.options.prefixCache === false ? false : undefined,
          kvBudgetBytes: this.options.kvBudgetBytes,
          trace: this.options.trace,
          // One lane per model folder, so a trace tells which model each forward ran.
          lane: `llm:${(model as Model).dir}`,
        }),
      );
      this.workers.set(model.id, w);
    }
    return w;
  }

  /**
   * Runs one call of `node` for `row`, or, when equal calls are merged, waits for the equal
   * earlier one; then tells `onCall`. Without either option it only runs the call.
   */
  private async call<T>(
    node: PlanNode,
    row: Row,
    kind: StepCall["kind"],
    run: () => Promise<T>,
    describe: (answer: T) => Pick<StepCall, "llm" | "url" | "repeat"> = () => ({}),
  ): Promise<T> {
    const { mergeEqualCalls, onCall } = this.options;
    if (!mergeEqualCalls && !onCall) return run();
    const key = `${node.kind}:${node.kind === "FnCall" ? `${node.args.fnKey}:` : ""}${callKey(node, row)}`;
    const earlier = mergeEqualCalls ? (this.answers.get(key) as Promise<T> | undefined) : undefined;
    const started = performance.now();
    const pending = earlier ?? run();
    if (mergeEqualCalls && !earlier) this.answers.set(key, pending);
    const answer = await pending;
    onCall?.({
      node: node.label,
      qid: row.qid,
      kind,
      key,
      ms: performance.now() - started,
      merged: earlier !== undefined,
      ...describe(answer),
    });
    return answer;
  }

  private stepFor(node: PlanNode): Step["run"] {
    const context = (signal?: AbortSignal) => ({ signal });
    switch (node.kind) {
      case "LlmCall": {
        const args = node.args;
        return async (row, signal) => {
          const model = await loadModel(args.modelKey);
          const worker = await this.worker(model);
          const promptTokens = model.encodeChat(llmMessages(args, row));
          const result = await this.call(
            node,
            row,
            "llm",
            () => {
              this.llmCalls++;
              return worker.submit({ promptTokens, sampling: llmSampling(args) }, { signal });
            },
            (answer) => ({ llm: { modelDir: (model as Model).dir, promptTokens, result: answer } }),
          );
          return result.text;
        };
      }
      case "SqlCall":
        return (row, signal) => {
          const run = () => {
            this.tools.sql++;
            return defaultServices.sql(sqlRequest(node.args, row), context(signal));
          };
          return this.call(node, row, "sql", run, () => ({ repeat: run }));
        };
      case "HttpCall":
        return (row, signal) => {
          const request = httpRequest(node.args, row);
          const run = () => {
            this.tools.http++;
            return defaultServices.http(request, context(signal));
          };
          return this.call(node, row, "http", run, () => ({ url: request.url }));
        };
      case "FnCall":
        return (row, signal) => {
          const run = () => {
            this.tools.function++;
            return defaultServices.fn(fnRequest(node.args, row), context(signal));
          };
          return this.call(node, row, "function", run, () => ({ repeat: run }));
        };
      default:
        throw new Error(`a workload node lowered to ${node.kind}, expected a call node`);
    }
  }

  /** Totals over every worker of this run. */
  async counters(): Promise<SystemCounters> {
    let prefillTokens = 0;
    let cachedTokens = 0;
    let decodeTokens = 0;
    for (const w of this.workers.values()) {
      const s = (await w).stats;
      prefillTokens += s.prefillTokens;
      cachedTokens += s.cachedTokens;
      decodeTokens += s.decodeTokens;
    }
    return {
      prefillTokens,
      cachedTokens,
      decodeTokens,
      llmCalls: this.llmCalls,
      toolCalls: { ...this.tools },
    };
  }
}

/** `row` with one more column (a new object: rows are shared between steps). */
export function withColumn(row: Row, column: string, value: unknown): Row {
  return { ...row, [column]: value === undefined ? null : value };
}

/** The harness's result rows: qid and the final node's output, in input order. */
export function resultRows(shape: WorkflowShape, rows: readonly Row[]): Record<string, unknown>[] {
  const final = shape.nodes.find((n) => n.id === shape.final)!.output;
  return rows.map((r) => ({ qid: r.qid, [final]: r[final] ?? null }));
}
