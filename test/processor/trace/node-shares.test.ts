// Each LLM node's share of its worker's time: batches split by the tokens each node computed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { llmMsByNode, tokensByNode } from "../../../src/processor/trace/node-shares.ts";
import type { TaskRecord } from "../../../src/processor/trace/trace.ts";

test("tokensByNode sums per node, splitting a request that serves two nodes evenly", () => {
  const batch = [
    { nodeIds: [3], tokens: 10 },
    { nodeIds: [1], tokens: 4 },
    { nodeIds: [1, 3], tokens: 6 },
    { nodeIds: [], tokens: 100 },
  ];
  assert.equal(
    tokensByNode(batch, (m) => m.tokens),
    { nodeIds: [1, 3], nodeTokens: [7, 13] },
  );
});

test("llmMsByNode splits each LLM task's time by tokens, evenly without them, skips tools", () => {
  const task = (t: Partial<TaskRecord>): TaskRecord => ({
    lane: "llm:0",
    kind: "decode",
    nodeIds: [],
    startMs: 0,
    endMs: 0,
    batchSize: 1,
    ...t,
  });
  const tasks = [
    // A prefill of 30 new tokens for node 1 and 10 for node 2: 40 ms split 30/10.
    task({ kind: "prefill", nodeIds: [1, 2], nodeTokens: [30, 10], startMs: 0, endMs: 40 }),
    // A decode step of 3 sequences of node 1 and 1 of node 2.
    task({ nodeIds: [1, 2], nodeTokens: [3, 1], startMs: 40, endMs: 48 }),
    // A whole generate() call (no per-node tokens): even split.
    task({ nodeIds: [2, 5], startMs: 50, endMs: 60 }),
    task({ lane: "tool:sql", kind: "sql", nodeIds: [1], startMs: 0, endMs: 500 }),
  ];
  const ms = llmMsByNode(tasks);
  assert.equal(
    [...ms.entries()].sort((a, b) => a[0] - b[0]),
    [
      [1, 36],
      [2, 17],
      [5, 5],
    ],
  );
  const total = [...ms.values()].reduce((a, b) => a + b, 0);
  assert.is(total, 58, "the shares add up to the LLM lane's task time");
});

test.run();
