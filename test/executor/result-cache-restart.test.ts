// The disk result store across processes, on the shipped model: a process killed mid-collect,
// two processes resuming it at once on the same cache folder (two kernels), each making only the
// missing calls, then a restart that makes zero LLM calls. Calls are counted by `halo.lastRun` in
// each process. The per-collect switches are test/frame/collect-result-cache.test.ts.
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
  options: { killAt?: number } = {},
): Promise<Outcome | { killedAt: number }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/executor/helpers/collect-script.ts", ...args],
    {
      env: { ...process.env, HALO_CACHE_DIR: dir, HALO_RESULT_CACHE: "on" },
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

const ROWS = 60;
const CALLS = 2 * ROWS; // two agents per row

test("killed mid-collect, resumed by two processes at once, then restarted: zero LLM calls", async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-cache-"));
  const crashed = (await collectIn(dir, [String(ROWS), "row-by-row"], { killAt: 10 })) as {
    killedAt: number;
  };
  assert.ok(crashed.killedAt >= 10, "killed after 10 rows had finished both agents");

  // Two kernels on one cache: both resume from what the killed one kept, and finish.
  const [a, b] = (await Promise.all([
    collectIn(dir, [String(ROWS), "processor"]),
    collectIn(dir, [String(ROWS), "processor"]),
  ])) as Outcome[];
  console.log(
    `measure: killed after ${crashed.killedAt} of ${ROWS} rows; the resuming processes made ${a!.llmCalls} and ${b!.llmCalls} of ${CALLS} LLM calls (${a!.fromStore.disk} and ${b!.fromStore.disk} from disk)`,
  );
  for (const run of [a!, b!]) {
    // Row by row runs the first agent over every row before the second: all of those, and the
    // second agent's rows reported done before the kill, were on disk.
    assert.ok(run.fromStore.disk >= ROWS + crashed.killedAt, `${run.fromStore.disk} from disk`);
    assert.is(run.llmCalls + run.fromStore.disk, CALLS);
  }
  assert.equal(a!.rows, b!.rows, "both processes got the same rows");
  assert.ok(a!.rows.every((r) => typeof r.summary === "string" && r.summary.length > 0));

  const restarted = (await collectIn(dir, [String(ROWS), "row-by-row"])) as Outcome;
  console.log(
    `measure: restart: ${restarted.llmCalls} LLM calls, ${restarted.fromStore.disk} of ${CALLS} from disk`,
  );
  assert.is(restarted.llmCalls, 0);
  assert.is(restarted.fromStore.disk, CALLS);
  assert.equal(restarted.rows, a!.rows, "the stored answers are the computed ones");
});

test.run();
