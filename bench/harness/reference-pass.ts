// The floor's reference pass: runs a workload once, untimed, before any system, to learn what it
// asks for. Node by node over all queries (opwise's order), every distinct request once (equal
// calls merged), with the baselines' steps (the frame's request builders, the model's own
// tokenizer, the same tools), so it sees the very prompts and answers every system sees. It
// records each LLM call's prompt and answer tokens, which call each query's tool nodes made and
// the least time each distinct tool call can take, and the model's forwards as measured.
import { TraceRecorder } from "../../src/processor/trace/trace-recorder.ts";
import { runNodeByNode } from "../systems/opwise.ts";
import { StepSet, type StepCall } from "../systems/steps.ts";
import type { InputRow } from "../workloads/inputs.ts";
import type { WorkflowShape } from "../workloads/types.ts";
import {
  decodeRows,
  type LlmCallRecord,
  type ToolCallRecord,
  type WorkloadCalls,
} from "./floor.ts";
import type { MeasuredForward } from "./llm-rates.ts";
import type { RunContext } from "./types.ts";

export interface ReferencePassOptions {
  /**
   * The least latency of an HTTP call to `url` asked `requests` times (the tool server's delays
   * are a pure function of the URL and how often it was asked: http-tools/server.ts leastDelayMs).
   */
  httpLatencyMs(url: string, requests: number): number;
}

export interface ReferencePass {
  calls: WorkloadCalls;
  /** Prefill calls and decode steps by model folder. */
  forwards: Map<string, MeasuredForward[]>;
  seconds: number;
}

interface PendingTool extends ToolCallRecord {
  requests: number;
  url?: string;
  repeat?: () => Promise<unknown>;
}

export async function runReferencePass(
  shape: WorkflowShape,
  inputs: readonly InputRow[],
  ctx: RunContext,
  options: ReferencePassOptions,
): Promise<ReferencePass> {
  const started = performance.now();
  const llm: LlmCallRecord[] = [];
  const tools = new Map<string, PendingTool>();
  const queries = inputs.map((r) => ({
    qid: r.qid as unknown,
    tools: new Map<string, string>(),
    decodeRows: new Map<string, number>(),
  }));
  const queryAt = new Map(inputs.map((r, i) => [r.qid as unknown, i]));
  const counts = { llm: 0, distinctLlm: 0, tools: 0, distinctTools: 0 };
  const onCall = (call: StepCall) => {
    if (call.kind === "llm") {
      counts.llm++;
      if (!call.llm) return;
      const record: LlmCallRecord = {
        modelDir: call.llm.modelDir,
        promptTokens: call.llm.promptTokens,
        outputTokens: call.llm.result.tokens,
        endedOnEos: call.llm.result.finishReason === "eos",
      };
      queries[queryAt.get(call.qid)!]!.decodeRows.set(call.node, decodeRows(record));
      if (call.merged) return;
      counts.distinctLlm++;
      llm.push(record);
      return;
    }
    counts.tools++;
    queries[queryAt.get(call.qid)!]!.tools.set(call.node, call.key);
    const known = tools.get(call.key);
    const tool = known ?? { kind: call.kind, ms: Infinity, requests: 0 };
    tool.requests++;
    if (!call.merged) Object.assign(tool, { ms: call.ms, url: call.url, repeat: call.repeat });
    if (!known) tools.set(call.key, tool);
  };
  const trace = new TraceRecorder();
  const set = new StepSet(shape, inputs, ctx, { mergeEqualCalls: true, onCall, trace });
  await runNodeByNode(set, inputs, ctx.signal);

  // Least times: an HTTP call waits at least the shortest delay the server could give it. SQL and
  // function calls ran beside forwards in the pass; each runs twice more alone, the best kept (a
  // SQL query took 5-250 ms by the load at the time: one timing alone says little).
  for (const tool of tools.values()) {
    if (tool.kind === "http" && tool.url !== undefined)
      tool.ms = options.httpLatencyMs(tool.url, tool.requests);
    else if (tool.repeat)
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        await tool.repeat();
        tool.ms = Math.min(tool.ms, performance.now() - t0);
      }
  }
  counts.distinctTools = tools.size;

  const forwards = new Map<string, MeasuredForward[]>();
  for (const t of trace.listTasks()) {
    if ((t.kind !== "prefill" && t.kind !== "decode") || t.error) continue;
    const dir = t.lane.slice("llm:".length);
    const list = forwards.get(dir) ?? [];
    list.push({
      kind: t.kind,
      tokens: (t.kind === "prefill" ? t.prefillTokens : t.decodeTokens) ?? 0,
      batch: t.batchSize,
      ms: t.endMs - t.startMs,
    });
    forwards.set(dir, list);
  }
  return {
    calls: {
      llm,
      tools: new Map([...tools].map(([k, t]) => [k, { kind: t.kind, ms: t.ms }])),
      queries,
      counts,
    },
    forwards,
    seconds: (performance.now() - started) / 1000,
  };
}
