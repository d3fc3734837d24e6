// schedule (an analysis, explain only): an epoch plan. An epoch is a set of call nodes that run
// together: on each LLM worker
// some of its ready LLM nodes (one batch stream), and on the CPU tool pools every ready tool
// call. An epoch lasts as long as its slowest lane, so a good plan puts LLM work beside tool work
// it does not depend on: a tool whose result a later LLM node needs is prepared while the model
// computes something else, and the worker never waits on it (the Halo paper's epochs).
//
// For small graphs the plan is exact: dynamic programming over (set of finished call nodes,
// model resident on each worker), trying every subset of each worker's ready LLM nodes per
// epoch, minimizing the sum of epoch lengths (model loads included). The number of states grows
// with the graph's width, so past `dpStateBudget` visited states it falls back, on purpose, to a
// greedy rule: each epoch runs every ready tool, and on each worker the ready LLM nodes of the
// resident model (else of the model with the most ready work), only those that feed tools when
// any do (so their tools overlap the rest next epoch). Durations all come from the cost model.
// The Processor does not run epochs: it is a dataflow, each call starting once its inputs exist,
// which already puts a tool beside LLM work it does not depend on; admitting LLM requests and
// queueing tool calls in epoch order measured no better on the six bench workloads
// (docs/optimizer.md). So the plan is shown, as the makespan the cost model predicts.
import { topologicalOrder } from "../plan/dag.ts";
import { CALL_KINDS, type PlanDag } from "../plan/types.ts";
import type { Analysis } from "./analysis.ts";
import type { OptimizerContext, ToolLane } from "./context.ts";
import { instanceViews } from "./instances.ts";
import { llmShape, llmState, rowsAt } from "./llm-shape.ts";
import { costNode } from "./pass.ts";
import type { Epoch, SchedulePlan, WorkerSpec } from "./physical.ts";
import { defaultWorkers } from "./place-work.ts";

/** One call node as the scheduler sees it. */
interface Task {
  id: number;
  /** LLM worker index, or a tool pool. */
  lane: number | ToolLane;
  model?: string;
  ms: number;
  /** Tasks that must finish first (nearest call nodes upstream), as indices and as a bit mask
   * (the mask is complete only for the DP's graphs of at most MAX_DP_TASKS tasks). */
  deps: number;
  depList: number[];
  /** Some LLM task (transitively) depends on it: a tool that can be prepared ahead. */
  feedsLlm: boolean;
  /** Some tool task depends on it (an LLM node to run early so its tool overlaps). */
  feedsTool: boolean;
}

const TOOL_LANE: Record<string, ToolLane> = {
  SqlCall: "sql",
  HttpCall: "http",
  FnCall: "function",
};

/** The widest graph the bit-mask DP handles (a JS bit operation has 32 bits). */
const MAX_DP_TASKS = 30;

export function buildTasks(dag: PlanDag, ctx: OptimizerContext, workers: WorkerSpec[]): Task[] {
  const views = instanceViews(dag);
  const report = dag.nodes[dag.root]!.physical?.report;
  const batchSizes = new Map(report?.batchSizes?.map((b) => [b.nodeId, b.size]));
  const order = topologicalOrder(dag);
  const ids = order.filter((id) => CALL_KINDS.has(dag.nodes[id]!.kind));
  const index = new Map(ids.map((id, i) => [id, i]));
  // Nearest call nodes upstream of each node (through relational nodes).
  const upstream = new Map<number, number[]>();
  for (const id of order) {
    const list = new Set<number>();
    for (const i of dag.nodes[id]!.inputs) {
      const k = index.get(i);
      if (k !== undefined) list.add(k);
      else for (const u of upstream.get(i) ?? []) list.add(u);
    }
    upstream.set(id, [...list]);
  }
  const maskOf = (list: number[]) => list.reduce((m, k) => (k < 31 ? m | (1 << k) : m), 0);
  const tasks: Task[] = ids.map((id) => {
    const node = dag.nodes[id]!;
    const rows = rowsAt(views.get(node.inputs[0]!));
    if (node.kind === "LlmCall") {
      const shape = llmShape(node, rows, ctx.cost);
      // The batch-sizes analysis's size when it ran, else as many as the KV budget holds.
      const size = batchSizes.get(id);
      const model = ctx.modelOf?.(node.args.modelKey) ?? node.args.modelKey;
      const worker =
        node.physical?.placement?.worker ??
        Math.max(
          0,
          workers.findIndex((w) => w.resident === model),
        );
      return {
        id,
        lane: worker,
        model,
        ms: ctx.cost.estimate(costNode(node), llmState(node, shape, ctx, size)).ms,
        deps: maskOf(upstream.get(id)!),
        depList: upstream.get(id)!,
        feedsLlm: false,
        feedsTool: false,
      };
    }
    const lane = TOOL_LANE[node.kind]!;
    const calls = node.physical?.fanOut?.distinct ?? rows;
    const one = ctx.cost.estimate(costNode(node), { calls: 1 }).ms;
    // A pool runs `concurrency` calls at once: the node takes its calls in that many waves.
    const ms = one * Math.ceil(calls / Math.max(1, ctx.processor.tools.limits[lane]));
    const depList = upstream.get(id)!;
    return { id, lane, ms, deps: maskOf(depList), depList, feedsLlm: false, feedsTool: false };
  });
  // Transitive consumers: tasks are in topological order, so walking them backwards sees every
  // consumer's flags final before passing them on to its dependencies.
  for (let j = tasks.length - 1; j >= 0; j--) {
    const u = tasks[j]!;
    for (const d of u.depList) {
      const t = tasks[d]!;
      if (typeof u.lane === "number" || u.feedsLlm) t.feedsLlm = true;
      if (typeof u.lane !== "number" || u.feedsTool) t.feedsTool = true;
    }
  }
  return tasks;
}

interface EpochChoice {
  llm: number[][];
  tools: number[];
}

/** Length of an epoch and the models resident after it, for a choice of tasks. */
function epochCost(
  tasks: Task[],
  choice: EpochChoice,
  resident: (string | undefined)[],
  ctx: OptimizerContext,
): { ms: number; resident: (string | undefined)[] } {
  const after = [...resident];
  let ms = 0;
  choice.llm.forEach((list, w) => {
    let lane = 0;
    // The resident model's nodes first: a switch, if any, happens once, after them.
    const byModel = new Map<string, number>();
    for (const t of list) {
      const m = tasks[t]!.model!;
      byModel.set(m, (byModel.get(m) ?? 0) + tasks[t]!.ms);
    }
    const models = [...byModel.keys()].sort((a, b) =>
      a === after[w] ? -1 : b === after[w] ? 1 : a < b ? -1 : 1,
    );
    for (const m of models) {
      lane += ctx.cost.modelSwitchMs(m, after[w]) + byModel.get(m)!;
      after[w] = m;
    }
    ms = Math.max(ms, lane);
  });
  const pools = new Map<string, number>();
  for (const t of choice.tools) {
    const lane = tasks[t]!.lane as string;
    pools.set(lane, (pools.get(lane) ?? 0) + tasks[t]!.ms);
  }
  for (const v of pools.values()) ms = Math.max(ms, v);
  return { ms, resident: after };
}

function readyTasks(tasks: Task[], done: number): number[] {
  const out: number[] = [];
  tasks.forEach((t, i) => {
    if (!(done & (1 << i)) && (t.deps & done) === t.deps) out.push(i);
  });
  return out;
}

function subsets(items: number[]): number[][] {
  const out: number[][] = [];
  for (let m = 0; m < 1 << items.length; m++) out.push(items.filter((_, k) => m & (1 << k)));
  return out;
}

class BudgetExceeded extends Error {}

function planDp(
  tasks: Task[],
  workers: number,
  start: (string | undefined)[],
  ctx: OptimizerContext,
): { choices: EpochChoice[]; states: number } {
  const full = tasks.length === 0 ? 0 : (2 ** tasks.length - 1) | 0;
  const memo = new Map<
    string,
    {
      ms: number;
      choice?: EpochChoice;
      next?: string;
      nextState?: [number, (string | undefined)[]];
    }
  >();
  let states = 0;
  const solve = (done: number, resident: (string | undefined)[]): number => {
    if (done === full) return 0;
    const key = `${done}|${resident.join("\u0000")}`;
    const hit = memo.get(key);
    if (hit) return hit.ms;
    if (++states > ctx.dpStateBudget) throw new BudgetExceeded();
    const ready = readyTasks(tasks, done);
    const tools = ready.filter((i) => typeof tasks[i]!.lane !== "number");
    const perWorker = Array.from({ length: workers }, (_, w) =>
      subsets(ready.filter((i) => tasks[i]!.lane === w)),
    );
    let best = { ms: Infinity } as {
      ms: number;
      choice?: EpochChoice;
      nextState?: [number, (string | undefined)[]];
    };
    const pick = (w: number, llm: number[][]) => {
      if (w === workers) {
        const ran = [...tools, ...llm.flat()];
        if (ran.length === 0) return;
        const choice = { llm: llm.map((l) => [...l]), tools };
        const e = epochCost(tasks, choice, resident, ctx);
        let next = done;
        for (const i of ran) next |= 1 << i;
        const total = e.ms + solve(next, e.resident);
        if (total < best.ms) best = { ms: total, choice, nextState: [next, e.resident] };
        return;
      }
      for (const s of perWorker[w]!) pick(w + 1, [...llm, s]);
    };
    pick(0, []);
    memo.set(key, best);
    return best.ms;
  };
  solve(0, start);
  const choices: EpochChoice[] = [];
  let done = 0;
  let resident = start;
  while (done !== full) {
    const entry = memo.get(`${done}|${resident.join("\u0000")}`)!;
    choices.push(entry.choice!);
    [done, resident] = entry.nextState!;
  }
  return { choices, states };
}

function planGreedy(tasks: Task[], workers: number, start: (string | undefined)[]): EpochChoice[] {
  const done = new Set<number>();
  const resident = [...start];
  const choices: EpochChoice[] = [];
  const isReady = (i: number) => !done.has(i) && tasks[i]!.depList.every((d) => done.has(d));
  while (done.size < tasks.length) {
    const ready = tasks.map((_, i) => i).filter(isReady);
    const tools = ready.filter((i) => typeof tasks[i]!.lane !== "number");
    const llm = Array.from({ length: workers }, (_, w) => {
      const mine = ready.filter((i) => tasks[i]!.lane === w);
      if (mine.length === 0) return [];
      const work = new Map<string, number>();
      for (const i of mine)
        work.set(tasks[i]!.model!, (work.get(tasks[i]!.model!) ?? 0) + tasks[i]!.ms);
      const model = work.has(resident[w]!)
        ? resident[w]!
        : [...work].sort((a, b) => b[1] - a[1])[0]![0];
      resident[w] = model;
      const same = mine.filter((i) => tasks[i]!.model === model);
      const feeding = same.filter((i) => tasks[i]!.feedsTool);
      return feeding.length > 0 ? feeding : same;
    });
    const ran = [...tools, ...llm.flat()];
    if (ran.length === 0) break; // cannot happen in a DAG; never loop forever
    for (const i of ran) done.add(i);
    choices.push({ llm, tools });
  }
  return choices;
}

function run(dag: PlanDag, ctx: OptimizerContext) {
  const workers = ctx.workers?.length ? ctx.workers : defaultWorkers(dag, ctx.modelOf);
  const tasks = buildTasks(dag, ctx, workers);
  const start = workers.map((w) => w.resident);
  let method: SchedulePlan["method"] = "greedy";
  let states = 0;
  let choices: EpochChoice[] | undefined;
  if (tasks.length <= MAX_DP_TASKS) {
    try {
      const dp = planDp(tasks, workers.length, start, ctx);
      choices = dp.choices;
      states = dp.states;
      method = "dp";
    } catch (err) {
      if (!(err instanceof BudgetExceeded)) throw err;
    }
  }
  choices ??= planGreedy(tasks, workers.length, start);
  const epochs: Epoch[] = [];
  let resident = start;
  const scheduled = new Set<number>();
  for (const c of choices) {
    const e = epochCost(tasks, c, resident, ctx);
    resident = e.resident;
    for (const i of [...c.tools, ...c.llm.flat()]) scheduled.add(i);
    epochs.push({
      llm: c.llm
        .map((l, w) => ({ lane: workers[w]!.lane, nodeIds: l.map((i) => tasks[i]!.id) }))
        .filter((l) => l.nodeIds.length > 0),
      tools: c.tools.map((i) => tasks[i]!.id),
      prepared: c.tools.filter((i) => tasks[i]!.feedsLlm).map((i) => tasks[i]!.id),
      ms: e.ms,
    });
  }
  let serialMs = 0;
  let serialResident = start;
  for (const t of tasks) {
    const e = epochCost(
      tasks,
      typeof t.lane === "number"
        ? { llm: workers.map((_, w) => (w === t.lane ? [tasks.indexOf(t)] : [])), tools: [] }
        : { llm: [], tools: [tasks.indexOf(t)] },
      serialResident,
      ctx,
    );
    serialResident = e.resident;
    serialMs += e.ms;
  }
  const plan: SchedulePlan = {
    epochs,
    method,
    makespanMs: epochs.reduce((a, e) => a + e.ms, 0),
    serialMs,
    states,
  };
  const prepared = epochs.reduce((a, e) => a + e.prepared.length, 0);
  return {
    report: { workers, schedule: plan },
    effect: `${epochs.length} epoch(s) by ${method}${method === "dp" ? ` (${states} states)` : ""}; ${prepared} tool node(s) prepared ahead; predicted ${plan.makespanMs.toFixed(1)} ms vs ${serialMs.toFixed(1)} ms one node at a time${scheduled.size < tasks.length ? `; ${tasks.length - scheduled.size} unscheduled` : ""}`,
  };
}

export const schedule: Analysis = {
  name: "schedule",
  guard: (dag) => dag.nodes.some((n) => CALL_KINDS.has(n.kind)),
  run,
};
