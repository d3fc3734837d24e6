// The disk result store across processes, on the shipped model: two processes on one cache
// folder at once (two kernels), then a restart that makes zero LLM calls, a process killed
// mid-collect whose rerun makes only the missing calls, and the opt-outs (HALO_RESULT_CACHE=off,
// collect({ resultCache: "write" })). Calls are counted by `halo.lastRun` in each process.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Row } from "../../src/plan/types.ts";

interface Outcome {
  llmCalls: number;
  fromStore: { session: number; disk: number };
  kept: number;
  rows: Row[];
}

/** Runs helpers/collect-script.ts; with `killAt`, SIGKILLs it once that many rows are done. */
function collectIn(
  dir: string,
  args: string[],
  options: { env?: Record<string, string>; killAt?: number } = {},
): Promise<Outcome | { killedAt: number }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/executor/helpers/collect-script.ts", ...args],
    {
      env: { ...process.env, HALO_CACHE_DIR: dir, HALO_RESULT_CACHE: "on", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  let killedAt: number | undefined;
  child.stdout.on("data", (d: Buffer) => {
    out += d;
    const done = [...out.matchAll(/^done (\d+)$/gm)].map((m) => Number(m[1]));
    if (
      options.killAt !== undefined &&
      killedAt === undefined &&
      Math.max(0, ...done) >= options.killAt
    ) {
      killedAt = Math.max(...done);
      child.kill("SIGKILL");
    }
  });
  child.stderr.on("data", (d: Buffer) => (err += d));
  return new Promise((resolve, reject) =>
    child.on("close", (code, signal) => {
      if (killedAt !== undefined && signal === "SIGKILL") return resolve({ killedAt });
      if (code !== 0) return reject(new Error(`collect script exited ${code} ${signal}: ${err}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)!) as Outcome);
    }),
  );
}

const N = 24;
const CALLS = 2 * N; // two agents per row

test("two processes share a cache; a restarted process makes zero LLM calls", async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-cache-"));
  const [a, b] = (await Promise.all([
    collectIn(dir, [String(N), "processor"]),
    collectIn(dir, [String(N), "processor"]),
  ])) as Outcome[];
  assert.equal(a!.rows, b!.rows, "both processes got the same rows");
  assert.is(a!.llmCalls + a!.fromStore.disk, CALLS);
  assert.is(b!.llmCalls + b!.fromStore.disk, CALLS);

  const restarted = (await collectIn(dir, [String(N), "row-by-row"])) as Outcome;
  console.log(
    `measure: restart: ${restarted.llmCalls} LLM calls, ${restarted.fromStore.disk} of ${CALLS} from disk`,
  );
  assert.is(restarted.llmCalls, 0);
  assert.is(restarted.fromStore.disk, CALLS);
  assert.equal(restarted.rows, a!.rows, "the stored answers are the computed ones");

  // The opt-outs: a process with HALO_RESULT_CACHE=off, and collect({ resultCache: "write" }).
  const off = (await collectIn(dir, [String(N), "processor"], {
    env: { HALO_RESULT_CACHE: "off" },
  })) as Outcome;
  assert.is(off.llmCalls, CALLS);
  assert.is(off.fromStore.disk, 0);
  const refresh = (await collectIn(dir, [String(N), "processor", "write"])) as Outcome;
  assert.is(refresh.llmCalls, CALLS);
  assert.equal(refresh.rows, a!.rows);
});

test("a process killed mid-collect: the rerun computes only what had not finished", async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-cache-"));
  const rows = 100;
  const crashed = (await collectIn(dir, [String(rows), "row-by-row"], { killAt: 15 })) as {
    killedAt: number;
  };
  assert.ok(crashed.killedAt >= 15, "killed after 15 rows had finished both agents");
  const rerun = (await collectIn(dir, [String(rows), "processor"])) as Outcome;
  console.log(
    `measure: killed after ${crashed.killedAt} of ${rows} rows: the rerun made ${rerun.llmCalls} of ${2 * rows} LLM calls, ${rerun.fromStore.disk} from disk`,
  );
  // Row by row runs the first agent over every row before the second: all of those, and the
  // second agent's rows reported done before the kill, were on disk.
  assert.ok(rerun.fromStore.disk >= rows + crashed.killedAt, `${rerun.fromStore.disk} from disk`);
  assert.is(rerun.llmCalls + rerun.fromStore.disk, 2 * rows);
  assert.is(rerun.rows.length, rows);
  assert.ok(rerun.rows.every((r) => typeof r.summary === "string" && r.summary.length > 0));
});

test.run();
