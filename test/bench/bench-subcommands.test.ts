// `halo bench planner`, `halo bench estimates`, `halo bench estimate` and `halo bench resume`: the
// commands behind the planner-time, estimate-accuracy and rerun figures in docs/benchmarks.md,
// docs/cost-model.md and docs/api.md print what they claim.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";

const bench = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/halo.js", "bench", ...args], {
    encoding: "utf8",
    timeout: 240_000,
  });

test("halo bench planner: the plan's time, pass by pass, twice", () => {
  const r = bench("planner", "--queries", "16", "--workloads", "movies-diamond");
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.is(lines.length, 2);
  for (const line of lines) {
    assert.match(line, /^movies-diamond, 16 queries, \d+ plan nodes, (first|second) plan: \d+ ms/);
    assert.match(line, /group-shared-prefixes \d+/);
  }
  const bad = bench("planner", "--queries", "none");
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /--queries must be a positive integer/);
});

test("halo bench estimates: four runs and two pipelined ones, estimate beside measurement", () => {
  const r = bench("estimates");
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.is(lines.length, 6);
  lines
    .slice(0, 4)
    .forEach((line, i) =>
      assert.match(
        line,
        new RegExp(
          `^run ${i + 1}: (24|48) rows, estimated [\\d.]+ ms, measured [\\d.]+ ms \\(error \\d+%\\), own share [\\d.]+ ms \\(error \\d+%\\)`,
        ),
      ),
    );
  lines
    .slice(4)
    .forEach((line, i) =>
      assert.match(
        line,
        new RegExp(
          `^pipelined run ${i + 1} \\(48 rows, 3 LLM nodes\\): median error vs span \\d+%, vs own share \\d+%; sentiment est [\\d.]+ / span [\\d.]+ / own [\\d.]+ ms`,
        ),
      ),
    );
});

test("halo bench estimate: estimate against the run per workload, before and after a first run", () => {
  const r = bench("estimate", "--queries", "2", "--workloads", "lexicon-bridge");
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const figures =
    /^ {2}lexicon-bridge: prompt \d+ est \/ \d+ actual \([\d.]+%\); decode with choices \d+ \/ \d+ \([\d.]+%\); all decode \d+ \/ \d+ \([\d.]+%\); seconds [\d.]+ \/ [\d.]+ \([\d.]+%\); load [\d.]+$/;
  assert.is(lines.filter((l) => figures.test(l)).length, 2, r.stdout);
  assert.is(lines.filter((l) => /^ {2}median error: prompt [\d.]+% \(aim 5%\)/.test(l)).length, 2);
  assert.ok(lines.includes("after each plan ran once:"), r.stdout);
  assert.is(
    lines.filter((l) => /^ {2}(object|string|enum): decode \d+ est \/ \d+ actual/.test(l)).length,
    3,
  );
  const bad = bench("estimate", "--queries", "0");
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /--queries must be a positive integer/);
});

test("halo bench resume: kept calls and the rerun's LLM calls, per failure and interrupt", () => {
  // 60 rows and an interrupt that never comes: everything finishes, so the rerun makes none.
  const r = bench("resume", "--rows", "60", "--interrupt-ms", "600000");
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.is(lines.length, 4);
  assert.match(
    lines[0]!,
    /^a tool fails at row 45 of 50, row-by-row: 50 LLM calls, .*44 of 50 rows had finished this node and were kept.*; the rerun made 0 LLM calls/,
  );
  assert.match(lines[1]!, /^a tool fails at row 45 of 50, processor: 50 LLM calls, /);
  assert.match(
    lines[2]!,
    /^the agent fails at row 45 of 50, processor: \d+ LLM calls, .*the rerun made \d+ LLM calls/,
  );
  assert.match(
    lines[3]!,
    /^interrupt 600000 ms into 60 rows, processor: 60 calls kept; the rerun made 0 LLM calls in /,
  );
});

test.run();
