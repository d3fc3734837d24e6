// Two LLM workers per model on the shipped model (`processor: { llm: { workersPerModel: 2 } }`):
// two model sessions with a prefix cache each.
// A gathered chain stays on one worker (its child cannot start before its parent ends, when the
// parent's worker is free again); a fork puts one child on the other worker, and the parent's KV
// moves over when the cost model says that beats recomputing it. Tables must equal the one-worker
// Processor's and the row-by-row executor's whatever moved.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CostModel } from "../../src/cost/cost-model.ts";
import { priorProfile } from "../../src/cost/profile.ts";
import { collectAll, halo } from "../../src/index.ts";
import { session } from "../../src/frame/session.ts";
import { SAMPLE_REVIEWS, SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";

// Room for about three running sequences per worker, far under the working set: the shipped
// model keeps 2,048 bytes of KV per token and a request here reserves 130-140 tokens.
const SMALL_KV = { budgetBytes: 3 * 140 * 2048 };

/** Run options with `n` workers per model (and more Processor settings). */
const workers = (n: number, kv?: typeof SMALL_KV) => ({
  processor: { llm: { workersPerModel: n }, ...(kv && { kv }) },
});

const rows = Array.from({ length: 12 }, (_, id) => ({
  id,
  review: `${SAMPLE_REVIEWS[id % SAMPLE_REVIEWS.length]} Order ${id}.`,
}));

/** The second agent's prompt starts with the first one's: its KV is worth having. */
function chained() {
  return halo
    .lazy(rows)
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
    .agent({ prompt: `${SENTIMENT_PROMPT}\nLabel: {{sentiment}}`, output: "check", maxTokens: 8 });
}

/** A labelling agent and two agents whose prompts extend its prompt: a fork after the label. */
function forked() {
  const labelled = halo
    .lazy(rows)
    .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" });
  const extended = `${SENTIMENT_PROMPT}\nLabel: {{sentiment}}`;
  return [
    labelled.agent({ prompt: extended, output: "check", maxTokens: 8 }),
    labelled.agent({ prompt: `${extended}\nSure?`, output: "again", maxTokens: 8 }),
  ];
}

// Planned with the prior profile (no calibration), so the test decides the move costs.
const options = { reuse: false, calibrate: false, progress: false } as const;

async function collectCold(extra: Record<string, unknown>) {
  // Each run starts with cold caches: a warm second worker would have nothing to pull.
  halo.processor.dropCaches();
  const { rows } = await chained().collectRows({ ...options, ...extra });
  return { rows, run: halo.lastRun! };
}

/** Both frames of the fork, collected together, as rows. */
async function collectFork(extra: Record<string, unknown>) {
  halo.processor.dropCaches();
  const frames = await collectAll(forked(), { ...options, ...extra });
  const rows = frames.map((df) =>
    (df.values as unknown[][]).map((r) => Object.fromEntries(df.columns.map((c, i) => [c, r[i]]))),
  );
  return { rows, run: halo.lastRun! };
}

/** Lane of each LLM node's prefill tasks. */
function lanesByNode(run: NonNullable<typeof halo.lastRun>): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const t of run.tasks)
    if (t.kind === "prefill")
      for (const id of t.nodeIds) out[id] = [...new Set([...(out[id] ?? []), t.lane])];
  return out;
}

let want: Record<string, unknown>[];
let wantFork: Record<string, unknown>[][];

test.before(async () => {
  want = (await chained().collectRows({ ...options, executor: "row-by-row" })).rows;
  wantFork = (await collectFork({ executor: "row-by-row" })).rows;
});

test("two workers: a gathered chain stays on one worker, nothing moves", async () => {
  const one = await collectCold(workers(1));
  assert.equal(one.rows, want, "one worker");
  assert.equal(Object.values(lanesByNode(one.run)), [["llm:0"], ["llm:0"]]);

  const two = await collectCold(workers(2));
  assert.equal(two.rows, want, "two workers");
  // The child waits for all its parent's rows; by then the parent's worker is free again, and it
  // holds the parent's KV.
  assert.equal(Object.values(lanesByNode(two.run)), [["llm:0"], ["llm:0"]]);
  assert.is(two.run.kvMigration!.moves, 0);
});

/** The lane of the labelling node and of the two children, by label. */
function forkLanes(run: NonNullable<typeof halo.lastRun>) {
  const lanes = lanesByNode(run);
  const of = (label: string) => lanes[run.nodes.find((n) => n.label === label)!.nodeId];
  return { parent: of("sentiment"), children: [of("check"), of("again")] };
}

/** The lanes the fork's two children ran on, sorted (which child goes where is place-work's call). */
function childLanes(run: NonNullable<typeof halo.lastRun>): string[] {
  return forkLanes(run)
    .children.map((l) => l![0]!)
    .sort();
}

test("two workers: a fork's second child runs on the other worker with the parent's KV moved", async () => {
  const one = await collectFork(workers(1));
  assert.equal(one.rows, wantFork, "one worker");

  const two = await collectFork(workers(2));
  assert.equal(two.rows, wantFork, "two workers");
  const lanes = forkLanes(two.run);
  assert.equal(lanes.parent, ["llm:0"]);
  assert.equal(childLanes(two.run), ["llm:0", "llm:1"]);
  const moved = two.run.kvMigration!;
  assert.ok(moved.moves > 0 && moved.movedTokens > 0, JSON.stringify(moved));
  assert.is(moved.declined, 0);
  assert.ok(two.run.tasks.some((t) => t.kind === "kv-move" && t.lane === "kv:llm:0>llm:1"));
  assert.match(two.run.summary(), /KV between workers: \d+ moves/);
  // What moved was not prefilled again: worker 1 found those tokens cached.
  const away = ["check", "again"][lanes.children.findIndex((l) => l![0] === "llm:1")]!;
  const node = two.run.nodes.find((n) => n.label === away)!;
  assert.ok(node.cachedTokens >= moved.movedTokens);
  console.log(
    `measure: 12 rows, a label then 2 children, 2 workers: ${moved.moves} moves, ${moved.movedTokens} tokens moved; the child on llm:1 prefilled ${node.prefillTokens}, cached ${node.cachedTokens}`,
  );
});

test("a cost model where recomputing is cheaper: nothing moves, same table", async () => {
  const saved = session.processor.cost;
  session.processor.cost = new CostModel({
    ...priorProfile("shipped"),
    kvMove: { fixedMs: 1000, bytesPerMs: 1 },
  });
  try {
    const two = await collectFork(workers(2));
    assert.equal(two.rows, wantFork);
    assert.equal(childLanes(two.run), ["llm:0", "llm:1"]);
    const moved = two.run.kvMigration!;
    assert.is(moved.moves, 0);
    assert.is(moved.movedTokens, 0);
    assert.ok(moved.declined > 0 && moved.declinedTokens > 0, JSON.stringify(moved));
    assert.not.ok(two.run.tasks.some((t) => t.kind === "kv-move"));
  } finally {
    session.processor.cost = saved;
  }
});

test("a KV budget smaller than the working set, two workers: same table", async () => {
  const two = await collectFork(workers(2, SMALL_KV));
  assert.equal(two.rows, wantFork);
  assert.equal(childLanes(two.run), ["llm:0", "llm:1"]);
  // The budget bound the batches (12 rows would otherwise run as one batch per node).
  const widest = Math.max(
    ...two.run.tasks.filter((t) => t.kind === "decode").map((t) => t.batchSize),
  );
  assert.ok(widest < rows.length, `decode batches of up to ${widest}`);
  console.log(`measure: small KV budget, 2 workers: ${JSON.stringify(two.run.kvMigration)}`);
});

test("workersPerModel must be a whole number from 1 to 8", async () => {
  for (const bad of [0, 1.5, 9, "2"]) {
    const error = await chained()
      .collectRows({ ...options, ...workers(bad as number) })
      .catch((e: unknown) => e);
    assert.match(String(error), /llm\.workersPerModel: expected an integer from 1 to 8/);
  }
});

test.run();
