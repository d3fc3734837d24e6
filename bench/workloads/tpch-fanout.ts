// Paper workload 6 (TPC-H, fan-out): an extractor agent, a five-way fan-out (agents fed by 4
// SQL, by 2 HTTP, by 1 SQL, and two tool-free planners), a second stage that re-issues the first
// stage's five SQL queries (same text, same parameters: the repeated work a plan-level
// optimizer should run once), a narrative agent and a final merger (SQL). 9 LLM / 13 tool nodes.
import { answer, extract, summarise } from "./prompts.ts";
import { TPCH_QUERIES } from "./tpch-trident.ts";
import type { SqlNode, WorkflowNode, WorkflowShape } from "./types.ts";

const N = "{{nation}}";
const S = "{{segment}}";
const Y = "{{year}}";
const M = "{{shipmode}}";

const stageOneSql: SqlNode[] = [
  {
    id: "f1_revenue",
    type: "sql",
    output: "f1_revenue",
    query: TPCH_QUERIES.nationRevenue,
    params: { nation: N, year: Y },
  },
  {
    id: "f1_returned",
    type: "sql",
    output: "f1_returned",
    query: TPCH_QUERIES.returnedRevenue,
    params: { nation: N, year: Y },
  },
  {
    id: "f1_stock",
    type: "sql",
    output: "f1_stock",
    query: TPCH_QUERIES.supplierStock,
    params: { nation: N },
  },
  {
    id: "f1_segment",
    type: "sql",
    output: "f1_segment",
    query: TPCH_QUERIES.segmentOrders,
    params: { segment: S, year: Y },
  },
  {
    id: "f3_late",
    type: "sql",
    output: "f3_late",
    query: TPCH_QUERIES.lateByMode,
    params: { shipmode: M, year: Y },
  },
];

/** The second stage's copies: same query and parameters, new ids and outputs. */
const stageTwoSql: SqlNode[] = stageOneSql.map((n) => ({
  ...n,
  id: `s2_${n.id}`,
  output: `s2_${n.output}`,
}));

const nodes: WorkflowNode[] = [
  {
    id: "extractor",
    type: "llm",
    model: "small",
    maxTokens: 8,
    output: "nation",
    prompt: extract("nation", "{{request}}"),
  },
  ...stageOneSql,
  {
    id: "fan_sql4",
    type: "llm",
    model: "small",
    maxTokens: 24,
    output: "sql4_note",
    prompt: answer("{{f1_revenue}} {{f1_returned}} {{f1_stock}} {{f1_segment}}", "{{request}}"),
  },
  {
    id: "r_nation",
    type: "http",
    route: "/tpch/report/nation-revenue",
    query: { nation: N, year: Y },
    output: "nation_report",
  },
  {
    id: "r_segment",
    type: "http",
    route: "/tpch/report/segment",
    query: { segment: S, year: Y },
    output: "segment_report",
  },
  {
    id: "fan_http",
    type: "llm",
    model: "small",
    maxTokens: 24,
    output: "http_note",
    prompt: answer("{{nation_report}} {{segment_report}}", "{{request}}"),
  },
  {
    id: "fan_sql1",
    type: "llm",
    model: "small",
    maxTokens: 24,
    output: "sql1_note",
    prompt: answer("{{f3_late}}", "{{request}}"),
  },
  {
    id: "fan_plan_a",
    type: "llm",
    model: "small",
    maxTokens: 24,
    output: "plan_a",
    prompt: summarise("{{request}}"),
  },
  {
    id: "fan_plan_b",
    type: "llm",
    model: "small",
    maxTokens: 24,
    output: "plan_b",
    prompt: extract("goal", "{{request}}"),
  },
  ...stageTwoSql,
  {
    id: "stage2",
    type: "llm",
    model: "small",
    maxTokens: 32,
    output: "stage2_note",
    prompt: answer(
      "{{s2_f1_revenue}} {{s2_f1_returned}} {{s2_f1_stock}} {{s2_f1_segment}} {{s2_f3_late}} {{plan_a}} {{plan_b}}",
      "{{request}}",
    ),
  },
  {
    id: "narrative",
    type: "llm",
    model: "small",
    maxTokens: 48,
    output: "narrative",
    prompt: summarise("{{sql4_note}} | {{http_note}} | {{sql1_note}} | {{stage2_note}}"),
  },
  {
    id: "q_volume",
    type: "sql",
    output: "volume",
    query: TPCH_QUERIES.orderVolume,
    params: { segment: S, year: Y },
  },
  {
    id: "final",
    type: "llm",
    model: "small",
    maxTokens: 48,
    output: "answer",
    prompt: answer("{{narrative}} {{volume}}", "{{request}}"),
  },
];

export const tpchFanout: WorkflowShape = {
  name: "tpch-fanout",
  description:
    "extractor -> 5-way fan-out (4 SQL, 2 HTTP, 1 SQL, 2 planners) -> stage 2 re-issuing the SQL -> narrative -> final (+SQL)",
  dataset: "tpch",
  inputColumns: ["qid", "request", "segment", "year", "shipmode"],
  final: "final",
  expected: { llm: 9, tools: 13 },
  nodes,
};
