import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateDataset } from "../../../bench/data/index.ts";
import { openLoadedDb } from "../../../bench/data/load.ts";
import { formatWorkloadTable, toBenchJson } from "../../../bench/harness/report.ts";
import { runWorkload } from "../../../bench/harness/run-workload.ts";
import { runTool } from "../../../bench/harness/tools.ts";
import { startToolServer } from "../../../bench/http-tools/server.ts";
import { topoOrder } from "../../../bench/workloads/graph.ts";
import { getWorkload } from "../../../bench/workloads/index.ts";
import { generateInputs } from "../../../bench/workloads/inputs.ts";
import { renderTemplate } from "../../../bench/workloads/templates.ts";
import type { System, SystemCounters } from "../../../bench/harness/types.ts";

// A test-only fake system: runs the workflow row by row; an "LLM" answers with a hash of its
// rendered prompt. It tests the harness (measuring, hashing, tables, JSON), not any claim.
function fakeSystem(
  name: string,
  options: { memoTools?: boolean; corrupt?: boolean; fail?: boolean } = {},
): System {
  return {
    name,
    async run(workload, inputs, ctx) {
      if (options.fail) throw new Error("the fake was told to fail");
      const counters: Required<
        Pick<SystemCounters, "prefillTokens" | "decodeTokens" | "llmCalls">
      > &
        SystemCounters = {
        prefillTokens: 0,
        decodeTokens: 0,
        llmCalls: 0,
        toolCalls: { sql: 0, http: 0, function: 0 },
        plannerMs: options.memoTools ? 1 : undefined,
      };
      const memo = new Map<string, Promise<unknown>>();
      const rows = await Promise.all(
        inputs.map(async (input) => {
          const row: Record<string, unknown> = { ...input };
          for (const node of topoOrder(workload)) {
            if (node.type === "llm") {
              const prompt = renderTemplate(node.prompt, row);
              counters.llmCalls++;
              counters.prefillTokens += Math.ceil(prompt.length / 4);
              counters.decodeTokens += 4;
              row[node.output] = createHash("sha1").update(prompt).digest("hex").slice(0, 8);
              continue;
            }
            const args =
              node.type === "sql"
                ? Object.values(node.params).map((t) => renderTemplate(t, row))
                : node.type === "http"
                  ? Object.values(node.query).map((t) => renderTemplate(t, row))
                  : node.inputs.map((c) => row[c]);
            const memoKey = `${node.id}:${JSON.stringify(args)}`;
            let p = options.memoTools ? memo.get(memoKey) : undefined;
            if (!p) {
              counters.toolCalls![node.type]! += 1;
              p = runTool(node, row, ctx);
              if (options.memoTools) memo.set(memoKey, p);
            }
            row[node.output] = await p;
          }
          if (options.corrupt && input.qid === 0) row.answer = "different";
          return row;
        }),
      );
      return { rows, counters };
    },
  };
}

const shape = getWorkload("lexicon-bridge");
const db = await openLoadedDb([generateDataset("articles", { seed: 2, scale: 0.1 })]);
const server = await startToolServer({
  connection: db.connection,
  seed: 2,
  delays: { fastMeanMs: 2, slowMeanMs: 4 },
});
const inputs = generateInputs(shape, { queries: 12, seed: 2, repeatRate: 0.5 });
const toolServer = {
  url: server.url,
  stats: async () => server.stats(),
  resetStats: async () => server.resetStats(),
};

test("measures each system, checks identical outputs, and computes halo's speedup over the best baseline", async () => {
  const r = await runWorkload({
    shape,
    inputs,
    db: db.connection,
    instance: db.instance,
    toolServer,
    seed: 2,
    systems: [
      fakeSystem("halo", { memoTools: true }),
      fakeSystem("per-request"),
      fakeSystem("opwise"),
    ],
  });
  assert.equal(
    r.systems.map((m) => [m.name, m.role]),
    [
      ["halo", "halo"],
      ["per-request", "baseline"],
      ["opwise", "baseline"],
    ],
  );
  assert.is(r.identicalOutputs, true);
  assert.is(r.toolCallsRequested, 12 * 3);
  const [halo, perRequest, opwise] = r.systems as [
    (typeof r.systems)[0],
    (typeof r.systems)[0],
    (typeof r.systems)[0],
  ];
  assert.is(perRequest.httpExecuted, 12);
  assert.is(perRequest.toolCallsExecuted, 36);
  // Memoised tools: one HTTP call per distinct category.
  assert.is(halo.httpExecuted, new Set(inputs.rows.map((x) => x.category)).size);
  assert.ok(halo.toolCallsExecuted < 36);
  const best = Math.min(perRequest.seconds, opwise.seconds);
  assert.is(r.speedupVsBest, best / halo.seconds);
  assert.is(r.bestBaseline, perRequest.seconds <= opwise.seconds ? "per-request" : "opwise");
  for (const m of r.systems) {
    assert.ok(m.seconds > 0 && m.peakRssMb > 10 && m.cpuBusy >= 0);
    assert.match(m.outputHash, /^[0-9a-f]{64}$/);
  }

  const table = formatWorkloadTable(r);
  assert.match(
    table,
    /^lexicon-bridge: 12 queries, tool-call repeat rate \d+%, 9 LLM \/ 3 tool nodes$/m,
  );
  assert.match(
    table,
    /^system\s+seconds\s+x floor\s+halo speedup\s+prefill tok\s+decode tok\s+hit rate\s+tools exec\/req\s+planner ms\s+cpu busy\s+gpu busy\s+peak RSS MB\s+output$/m,
  );
  assert.match(table, /^per-request\s+\d+\.\d\d\s+-\s+\d+\.\d\dx\s+\d+\s+432\s+-\s+36\/36\s/m);
  assert.match(table, /^halo\s+\d+\.\d\d\s+-\s+-\s/m);
  assert.match(
    table,
    /speedup of halo over the best baseline \((per-request|opwise)\): \d+\.\d\dx/,
  );
  assert.match(table, /outputs identical: yes, all 3 systems \(sha256 [0-9a-f]{16}\)/);

  const json = JSON.parse(JSON.stringify(toBenchJson([r]))) as Record<string, unknown>;
  assert.equal(Object.keys(json), ["machine", "workloads", "online", "notes"]);
  const w = (json.workloads as Record<string, unknown>[])[0]!;
  assert.equal(Object.keys(w), [
    "name",
    "queries",
    "identicalOutputs",
    "systems",
    "speedupVsBest",
    "floorSeconds",
    "floor",
  ]);
  // No floor asked for (fake systems, no model): null, and no ratio to it.
  assert.is(w.floorSeconds, null);
  assert.is(w.floor, null);
  assert.is(w.name, "lexicon-bridge");
  assert.is(w.queries, 12);
  assert.is(w.identicalOutputs, true);
  assert.is(w.speedupVsBest, r.speedupVsBest);
  const systems = w.systems as Record<string, Record<string, unknown>>;
  assert.equal(Object.keys(systems), ["halo", "per-request", "opwise"]);
  assert.equal(Object.keys(systems.halo!), [
    "seconds",
    "prefillTokens",
    "decodeTokens",
    "toolCalls",
    "peakRssMb",
    "vsFloor",
    "gap",
  ]);
  assert.is(systems["per-request"]!.toolCalls, 36);
  assert.is(systems["per-request"]!.decodeTokens, 432);
  assert.equal(json.online, []);
  assert.is(typeof (json.machine as Record<string, unknown>).cores, "number");
});

test("a divergent output and a failing system are reported, never hidden", async () => {
  const r = await runWorkload({
    shape,
    inputs,
    db: db.connection,
    instance: db.instance,
    toolServer,
    seed: 2,
    systems: [
      fakeSystem("halo"),
      fakeSystem("langgraph", { corrupt: true }),
      fakeSystem("opwise", { fail: true }),
    ],
  });
  assert.is(r.identicalOutputs, false);
  const table = formatWorkloadTable(r);
  assert.match(
    table,
    /outputs identical: NO \(halo [0-9a-f]{10}, langgraph [0-9a-f]{10}, opwise failed\)/,
  );
  assert.match(table, /^opwise\s+failed\s/m);
  assert.match(table, /note: opwise failed: the fake was told to fail/);
  const json = toBenchJson([r]);
  assert.equal(Object.keys(json.workloads[0]!.systems), ["halo", "langgraph"]);
  assert.is(json.workloads[0]!.identicalOutputs, false);
});

test("one system alone: no identity claim and no speedup", async () => {
  const r = await runWorkload({
    shape,
    inputs,
    db: db.connection,
    instance: db.instance,
    toolServer,
    seed: 2,
    systems: [fakeSystem("halo")],
  });
  assert.is(r.identicalOutputs, null);
  assert.is(r.speedupVsBest, null);
  assert.match(formatWorkloadTable(r), /outputs identical: not checked/);
  assert.match(r.notes.join("\n"), /needs both halo and at least one baseline/);
});

const halo = fileURLToPath(new URL("../../../bin/halo.js", import.meta.url));

test("`halo bench` runs the systems, prints the table and writes issue 9's JSON", () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-bench-"));
  try {
    const file = join(dir, "bench.json");
    const r = spawnSync(
      process.execPath,
      [
        halo,
        "bench",
        "--workloads",
        "lexicon-bridge",
        "--queries",
        "2",
        "--systems",
        "per-request,opwise",
        "--fast-ms",
        "2",
        "--slow-ms",
        "4",
        "--json",
        file,
        "--online",
      ],
      { encoding: "utf8" },
    );
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /lexicon-bridge: 2 queries/);
    assert.match(r.stdout, /outputs identical: yes, all 2 systems/);
    // The floor: each row's seconds / floor, the floor's line, and its throughput online.
    assert.match(r.stdout, /^opwise\s+\d+\.\d\d\s+\d+\.\d\dx\s/m);
    assert.match(r.stdout, /^floor: \d+\.\d{3} s, set by /m);
    assert.match(r.stdout, /^ {2}floor: at most [\d.]+ q\/s \(queries \/ the batch floor\)/m);
    // --online: the same queries as a Poisson stream, halo's streaming session vs per-request.
    assert.match(
      r.stdout,
      /lexicon-bridge online: 2 queries, Poisson arrivals at [\d.]+, [\d.]+, [\d.]+ q\/s/,
    );
    const json = JSON.parse(readFileSync(file, "utf8")) as {
      workloads: {
        name: string;
        identicalOutputs: boolean;
        systems: Record<string, { seconds: number; vsFloor: number }>;
        floorSeconds: number;
        floor: { llmSeconds: number; toolSeconds: number };
      }[];
      online: {
        name: string;
        identicalOutputs: boolean;
        offeredQps: number[];
        systems: Record<
          string,
          { saturationQps: number; p99Ms: number; byRate: { offeredQps: number }[] }
        >;
        throughputVsBest: number;
        floorQps: number;
      }[];
      notes: string[];
    };
    assert.is(json.workloads[0]!.name, "lexicon-bridge");
    assert.is(json.workloads[0]!.identicalOutputs, true);
    assert.equal(Object.keys(json.workloads[0]!.systems), ["per-request", "opwise"]);
    const w = json.workloads[0]!;
    assert.ok(w.floorSeconds > 0);
    assert.is(w.floorSeconds, Math.max(w.floor.llmSeconds, w.floor.toolSeconds));
    for (const s of Object.values(w.systems)) assert.is(s.vsFloor, s.seconds / w.floorSeconds);
    const online = json.online[0]!;
    assert.is(online.name, "lexicon-bridge");
    assert.is(online.identicalOutputs, true);
    assert.equal(Object.keys(online.systems), ["halo", "per-request"]);
    assert.ok(online.systems.halo!.saturationQps > 0 && online.systems.halo!.p99Ms > 0);
    // Rising rates, each run by both systems; halo's answers came over HTTP from `halo serve`.
    assert.is(online.offeredQps.length, 3);
    assert.ok(
      online.offeredQps[0]! < online.offeredQps[1]! &&
        online.offeredQps[1]! < online.offeredQps[2]!,
    );
    assert.is(online.systems.halo!.byRate.length, 3);
    assert.ok(online.throughputVsBest > 0);
    assert.is(online.floorQps, 2 / w.floorSeconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("`halo bench` refuses bad arguments with what to pass", () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [halo, "bench", ...args], { encoding: "utf8" });
  const q = run("--queries", "0");
  assert.is(q.status, 1);
  assert.match(q.stderr, /--queries must be a positive integer, got '0'/);
  const w = run("--workloads", "movies");
  assert.match(
    w.stderr,
    /unknown workload 'movies': choose from movies-diamond, movies-triplechain/,
  );
  const s = run("--workloads", "lexicon-bridge", "--systems", "nope");
  assert.match(
    s.stderr,
    /unknown system 'nope'; implemented: halo, per-request, opwise, langgraph/,
  );
});

test.after(async () => {
  await server.close();
  db.connection.closeSync();
  db.instance.closeSync();
});

test.run();
