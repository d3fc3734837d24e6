// Paper workload 5 (TPC-H, trident): a regex parameter extractor (function), three entry agents
// each fed by two TPC-H-style queries, two hubs fed by report APIs (HTTP), a tail, and a final
// agent (SQL). 7 LLM / 10 tool nodes. The queries are cut-down TPC-H Q3/Q5/Q10/Q11/Q12/Q14.
import { answer, summarise, SYSTEM_ANALYST } from "./prompts.ts";
import type { WorkflowShape } from "./types.ts";

const YEAR =
  "o.o_orderdate >= make_date(CAST($year AS INTEGER), 1, 1) AND o.o_orderdate < make_date(CAST($year AS INTEGER) + 1, 1, 1)";

export const TPCH_QUERIES = {
  // Q5-like: revenue of a nation's customers buying from suppliers in the same region, in a year.
  nationRevenue:
    "SELECT n.n_name, round(sum(l.l_extendedprice * (1 - l.l_discount)), 2) AS revenue FROM customer c " +
    "JOIN orders o ON o.o_custkey = c.c_custkey JOIN lineitem l ON l.l_orderkey = o.o_orderkey " +
    `JOIN nation n ON n.n_nationkey = c.c_nationkey WHERE n.n_name = $nation AND ${YEAR} GROUP BY n.n_name`,
  // Q10-like: top customers of a nation by revenue lost to returns.
  returnedRevenue:
    "SELECT c.c_name, round(sum(l.l_extendedprice * (1 - l.l_discount)), 2) AS lost FROM customer c " +
    "JOIN orders o ON o.o_custkey = c.c_custkey JOIN lineitem l ON l.l_orderkey = o.o_orderkey JOIN nation n ON n.n_nationkey = c.c_nationkey " +
    `WHERE n.n_name = $nation AND l.l_returnflag = 'R' AND ${YEAR} GROUP BY c.c_name ORDER BY lost DESC, c.c_name LIMIT 3`,
  // Q3-like: unshipped orders of a segment with the highest value.
  segmentOrders:
    "SELECT o.o_orderkey, round(sum(l.l_extendedprice * (1 - l.l_discount)), 2) AS revenue, o.o_orderdate FROM customer c " +
    "JOIN orders o ON o.o_custkey = c.c_custkey JOIN lineitem l ON l.l_orderkey = o.o_orderkey " +
    `WHERE c.c_mktsegment = $segment AND ${YEAR} GROUP BY o.o_orderkey, o.o_orderdate ORDER BY revenue DESC, o.o_orderkey LIMIT 3`,
  // Q12-like: late deliveries per ship mode and priority.
  lateByMode:
    "SELECT o.o_orderpriority, count(*) AS late FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey " +
    `WHERE l.l_shipmode = $shipmode AND l.l_receiptdate > l.l_commitdate AND ${YEAR} GROUP BY o.o_orderpriority ORDER BY o.o_orderpriority`,
  // Q11-like: the nation's suppliers' stock value.
  supplierStock:
    "SELECT round(sum(ps.ps_supplycost * ps.ps_availqty), 2) AS stock_value, count(DISTINCT s.s_suppkey) AS suppliers FROM partsupp ps " +
    "JOIN supplier s ON s.s_suppkey = ps.ps_suppkey JOIN nation n ON n.n_nationkey = s.s_nationkey WHERE n.n_name = $nation",
  // Q14-like: promotion revenue share in a year.
  promoShare:
    "SELECT round(100 * sum(CASE WHEN p.p_type LIKE 'PROMO%' THEN l.l_extendedprice * (1 - l.l_discount) ELSE 0 END) / " +
    "sum(l.l_extendedprice * (1 - l.l_discount)), 2) AS promo_pct FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey " +
    "JOIN orders o ON o.o_orderkey = l.l_orderkey WHERE l.l_shipmode = $shipmode AND " +
    YEAR,
  // Order volume for the final agent.
  orderVolume:
    "SELECT count(*) AS orders, round(avg(o.o_totalprice), 2) AS avg_price FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey " +
    `WHERE c.c_mktsegment = $segment AND ${YEAR}`,
} as const;

// Plain {{column}} placeholders only (halo.workflow has no field access): the extractor writes
// the nation; segment, year and ship mode arrive as structured input columns.
const P = "{{nation}}";
const S = "{{segment}}";
const Y = "{{year}}";
const M = "{{shipmode}}";

export const tpchTrident: WorkflowShape = {
  name: "tpch-trident",
  description:
    "regex extractor -> 3 entry agents (2 SQL each) -> 2 hubs (+HTTP report) -> tail -> final (+SQL)",
  dataset: "tpch",
  inputColumns: ["qid", "request", "segment", "year", "shipmode"],
  final: "final",
  expected: { llm: 7, tools: 10 },
  nodes: [
    {
      id: "extract",
      type: "function",
      fn: "extract_nation",
      inputs: ["request"],
      output: "nation",
    },
    {
      id: "q_nation_revenue",
      type: "sql",
      output: "nation_revenue",
      query: TPCH_QUERIES.nationRevenue,
      params: { nation: P, year: Y },
    },
    {
      id: "q_returned",
      type: "sql",
      output: "returned",
      query: TPCH_QUERIES.returnedRevenue,
      params: { nation: P, year: Y },
    },
    {
      id: "e_market",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "market",
      system: SYSTEM_ANALYST,
      prompt: answer("{{nation_revenue}} {{returned}}", "{{request}}"),
    },
    {
      id: "q_segment",
      type: "sql",
      output: "segment_orders",
      query: TPCH_QUERIES.segmentOrders,
      params: { segment: S, year: Y },
    },
    {
      id: "q_late",
      type: "sql",
      output: "late",
      query: TPCH_QUERIES.lateByMode,
      params: { shipmode: M, year: Y },
    },
    {
      id: "e_orders",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "orders_note",
      system: SYSTEM_ANALYST,
      prompt: answer("{{segment_orders}} {{late}}", "{{request}}"),
    },
    {
      id: "q_stock",
      type: "sql",
      output: "stock",
      query: TPCH_QUERIES.supplierStock,
      params: { nation: P },
    },
    {
      id: "q_promo",
      type: "sql",
      output: "promo",
      query: TPCH_QUERIES.promoShare,
      params: { shipmode: M, year: Y },
    },
    {
      id: "e_supply",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "supply",
      system: SYSTEM_ANALYST,
      prompt: answer("{{stock}} {{promo}}", "{{request}}"),
    },
    {
      id: "r_nation",
      type: "http",
      route: "/tpch/report/nation-revenue",
      query: { nation: P, year: Y },
      output: "nation_report",
    },
    {
      id: "h_revenue",
      type: "llm",
      model: "small",
      maxTokens: 32,
      output: "revenue_view",
      prompt: answer("{{market}} {{orders_note}} {{nation_report}}", "{{request}}"),
    },
    {
      id: "r_shipmode",
      type: "http",
      route: "/tpch/report/shipmode",
      query: { mode: M, year: Y },
      output: "shipmode_report",
    },
    {
      id: "h_logistics",
      type: "llm",
      model: "small",
      maxTokens: 32,
      output: "logistics_view",
      prompt: answer("{{orders_note}} {{supply}} {{shipmode_report}}", "{{request}}"),
    },
    {
      id: "tail",
      type: "llm",
      model: "small",
      maxTokens: 32,
      output: "draft",
      prompt: summarise("{{revenue_view}} | {{logistics_view}}"),
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
      prompt: answer("{{draft}} {{volume}}", "{{request}}"),
    },
  ],
};
