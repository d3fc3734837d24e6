import { test } from "uvu";
import * as assert from "uvu/assert";
import { generateDataset } from "../../../bench/data/index.ts";
import { openLoadedDb } from "../../../bench/data/load.ts";
import { TITLE_NOUNS } from "../../../bench/data/words.ts";
import { runTool } from "../../../bench/harness/tools.ts";
import { startToolServer } from "../../../bench/http-tools/server.ts";
import { extractTpchParams } from "../../../bench/workloads/functions.ts";
import { countNodes, edgesOf, topoOrder, validateShape } from "../../../bench/workloads/graph.ts";
import { WORKLOADS, getWorkload } from "../../../bench/workloads/index.ts";
import { generateInputs } from "../../../bench/workloads/inputs.ts";
import type { WorkflowShape } from "../../../bench/workloads/types.ts";

// Issue 9's list: LLM / tool nodes per workload.
const EXPECTED: Record<string, [number, number]> = {
  "movies-diamond": [8, 9],
  "movies-triplechain": [10, 3],
  "lexicon-longchain": [9, 6],
  "lexicon-bridge": [9, 3],
  "tpch-trident": [7, 10],
  "tpch-fanout": [9, 13],
};

test("the six workloads exist, validate, and have issue 9's node counts", () => {
  assert.equal(WORKLOADS.map((w) => w.name).sort(), Object.keys(EXPECTED).sort());
  for (const w of WORKLOADS) {
    assert.equal(validateShape(w), [], w.name);
    const c = countNodes(w);
    assert.equal([c.llm, c.tools], EXPECTED[w.name], w.name);
  }
  assert.throws(() => getWorkload("movies"), /choose from movies-diamond/);
});

test("edges come from the templates: movies-diamond's planner feeds both HTTP entry tools", () => {
  const edges = edgesOf(getWorkload("movies-diamond"));
  assert.ok(
    edges.some((e) => e.from === "planner" && e.to === "movie_search" && e.column === "keyword"),
  );
  assert.ok(edges.some((e) => e.from === "input" && e.to === "genre_top" && e.column === "genre"));
  // movies-triplechain's chains run on three model sizes.
  const sizes = new Set(
    getWorkload("movies-triplechain").nodes.flatMap((n) => (n.type === "llm" ? [n.model] : [])),
  );
  assert.equal([...sizes].sort(), ["large", "medium", "small"]);
});

test("the validator names what is wrong", () => {
  const base = getWorkload("lexicon-bridge");
  const broken: WorkflowShape = {
    ...base,
    nodes: [
      ...base.nodes,
      {
        id: "extra",
        type: "llm",
        model: "small",
        maxTokens: 4,
        output: "x",
        prompt: "{{missing}}",
      },
    ],
  };
  const errors = validateShape(broken).join("\n");
  assert.match(errors, /node 'extra' reads column 'missing', which no node or input provides/);
  const cyclic: WorkflowShape = {
    ...base,
    nodes: base.nodes.map((n) => (n.id === "m1_topic" ? { ...n, prompt: "{{main_out}}" } : n)),
  };
  assert.match(validateShape(cyclic).join("\n"), /cycle/);
  const miscounted: WorkflowShape = { ...base, expected: { llm: 1, tools: 1 } };
  assert.match(validateShape(miscounted).join("\n"), /has 9 LLM \/ 3 tool nodes, expected 1 \/ 1/);
});

test("query inputs: deterministic per seed, repeat rate follows the knob", () => {
  const w = getWorkload("movies-diamond");
  const a = generateInputs(w, { queries: 500, seed: 3, repeatRate: 0.5 });
  assert.equal(generateInputs(w, { queries: 500, seed: 3, repeatRate: 0.5 }).rows, a.rows);
  assert.not.equal(generateInputs(w, { queries: 500, seed: 4, repeatRate: 0.5 }).rows, a.rows);
  assert.equal(Object.keys(a.rows[0]!), w.inputColumns);
  assert.equal(
    a.rows.map((r) => r.qid),
    a.rows.map((_, i) => i),
  );
  for (const rate of [0, 0.3, 0.8]) {
    const g = generateInputs(w, { queries: 1000, seed: 1, repeatRate: rate });
    assert.ok(
      Math.abs(g.realizedRepeatRate - rate) < 0.06,
      `knob ${rate}: realised ${g.realizedRepeatRate}`,
    );
  }
  assert.throws(() => generateInputs(w, { queries: 0 }), /positive integer/);
  assert.throws(() => generateInputs(w, { queries: 5, repeatRate: 2 }), /within 0..1/);
});

test("the regex extractor parses every phrasing of the TPC-H requests", () => {
  for (const row of generateInputs(getWorkload("tpch-trident"), { queries: 50, seed: 2 }).rows) {
    const p = extractTpchParams(String(row.request));
    assert.ok(
      p.nation.length > 0 && p.segment.length > 0 && p.year >= 1993 && p.shipmode.length > 0,
      String(row.request),
    );
  }
  assert.equal(
    extractTpchParams(
      "Prepare a report for nation UNITED KINGDOM in segment BUILDING during 1995 shipped by REG AIR.",
    ),
    {
      nation: "UNITED KINGDOM",
      segment: "BUILDING",
      year: 1995,
      shipmode: "REG AIR",
    },
  );
  assert.throws(() => extractTpchParams("hello"), /does not match/);
});

/** A stand-in for what an LLM node would write, taken from the row (tests only: lets every tool
 * node run against the real data without a model). */
function stubLlm(output: string, row: Record<string, unknown>): string {
  const text = String(row.question ?? row.request ?? "");
  if (output === "keyword") return TITLE_NOUNS.find((n) => text.includes(n)) ?? "storm";
  if (output === "nation") return extractTpchParams(text).nation;
  if (output === "topic") return String(row.term);
  return "stub";
}

test("every SQL, HTTP and function node runs on the generated data and the tool server", async () => {
  const datasets = (["imdb", "articles", "tpch"] as const).map((d) =>
    generateDataset(d, { seed: 9, scale: d === "tpch" ? 0.01 : 0.3 }),
  );
  const db = await openLoadedDb(datasets);
  const server = await startToolServer({
    connection: db.connection,
    delays: { fastMeanMs: 0, slowMeanMs: 0 },
  });
  try {
    for (const w of WORKLOADS) {
      const inputs = generateInputs(w, { queries: 4, seed: 9 }).rows;
      for (const input of inputs) {
        const row: Record<string, unknown> = { ...input };
        for (const node of topoOrder(w)) {
          if (node.type === "llm") {
            row[node.output] = stubLlm(node.output, row);
            continue;
          }
          const value = await runTool(node, row, { db: db.connection, toolServerUrl: server.url });
          if (node.type === "sql") assert.ok(Array.isArray(value), `${w.name}.${node.id}`);
          else if (node.type === "http")
            assert.ok(value && typeof value === "object", `${w.name}.${node.id}`);
          else assert.ok(value !== undefined && value !== null, `${w.name}.${node.id}`);
          row[node.output] = value;
        }
      }
    }
    const keywordHits = await runTool(
      getWorkload("movies-diamond").nodes.find((n) => n.id === "sql_titles") as never,
      { keyword: "heist", genre: "Drama" },
      { db: db.connection, toolServerUrl: server.url },
    );
    assert.ok((keywordHits as unknown[]).length > 0);
  } finally {
    await server.close();
  }
});

test.run();
