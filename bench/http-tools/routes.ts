// The workloads' HTTP tools, answered from the same generated tables the SQL tools read (the
// server loads them into its own DuckDB from the same seed). Each route names its latency class:
// "fast" and "slow" stand in for the paper's 3 s and 6 s APIs.
import type { DuckDBConnection } from "@duckdb/node-api";
import type { HttpRoute } from "../workloads/types.ts";

export type LatencyClass = "fast" | "slow";

export interface RouteSpec {
  path: HttpRoute;
  latency: LatencyClass;
  /** Required query parameters. */
  params: string[];
  /** Dataset whose tables the route reads. */
  dataset: "imdb" | "articles" | "tpch";
  sql: string;
  /** Shapes the SQL rows into the JSON body. */
  shape(rows: Record<string, unknown>[], params: Record<string, string>): unknown;
}

const YEAR =
  "o.o_orderdate >= make_date(CAST($year AS INTEGER), 1, 1) AND o.o_orderdate < make_date(CAST($year AS INTEGER) + 1, 1, 1)";

export const ROUTES: RouteSpec[] = [
  {
    path: "/imdb/search",
    latency: "fast",
    params: ["keyword"],
    dataset: "imdb",
    sql:
      "SELECT b.tconst, b.primary_title AS title, b.start_year AS year, r.average_rating AS rating FROM title_basics b " +
      "JOIN title_ratings r USING (tconst) WHERE b.primary_title ILIKE '%' || $keyword || '%' ORDER BY r.num_votes DESC, b.tconst LIMIT 5",
    shape: (rows, p) => ({ keyword: p.keyword, results: rows }),
  },
  {
    path: "/imdb/genre-top",
    latency: "slow",
    params: ["genre", "decade"],
    dataset: "imdb",
    sql:
      "SELECT b.tconst, b.primary_title AS title, b.start_year AS year, r.average_rating AS rating FROM title_basics b JOIN title_ratings r USING (tconst) " +
      "WHERE b.genres LIKE '%' || $genre || '%' AND b.start_year BETWEEN CAST($decade AS INTEGER) AND CAST($decade AS INTEGER) + 9 " +
      "ORDER BY r.average_rating DESC, r.num_votes DESC, b.tconst LIMIT 3",
    shape: (rows, p) => ({ genre: p.genre, decade: Number(p.decade), top: rows }),
  },
  {
    path: "/articles/category",
    latency: "fast",
    params: ["name"],
    dataset: "articles",
    sql:
      "SELECT c.name, c.description, (SELECT count(*) FROM articles a JOIN categories s ON s.category_id = a.category_id " +
      "WHERE s.category_id = c.category_id OR s.parent_id = c.category_id) AS articles, " +
      "(SELECT string_agg(s.name, ', ' ORDER BY s.name) FROM categories s WHERE s.parent_id = c.category_id) AS subcategories " +
      "FROM categories c WHERE c.name = $name",
    shape: (rows, p) => (rows[0] ? rows[0] : { name: p.name, found: false }),
  },
  {
    path: "/articles/links",
    latency: "slow",
    params: ["term"],
    dataset: "articles",
    sql:
      "SELECT s.title AS source, d.title AS target FROM links l JOIN articles s ON s.article_id = l.src_id " +
      "JOIN articles d ON d.article_id = l.dst_id WHERE s.title ILIKE '%' || $term || '%' ORDER BY l.src_id, l.dst_id LIMIT 5",
    shape: (rows, p) => ({ term: p.term, links: rows }),
  },
  {
    path: "/tpch/report/nation-revenue",
    latency: "slow",
    params: ["nation", "year"],
    dataset: "tpch",
    sql:
      "SELECT count(DISTINCT o.o_orderkey) AS orders, round(sum(l.l_extendedprice * (1 - l.l_discount)), 2) AS revenue " +
      "FROM customer c JOIN nation n ON n.n_nationkey = c.c_nationkey JOIN orders o ON o.o_custkey = c.c_custkey " +
      `JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE n.n_name = $nation AND ${YEAR}`,
    shape: (rows, p) => ({ nation: p.nation, year: Number(p.year), ...rows[0] }),
  },
  {
    path: "/tpch/report/shipmode",
    latency: "slow",
    params: ["mode", "year"],
    dataset: "tpch",
    sql:
      "SELECT count(*) AS lines, count(*) FILTER (WHERE l.l_receiptdate > l.l_commitdate) AS late, " +
      "round(avg(l.l_receiptdate - l.l_shipdate), 2) AS avg_transit_days FROM lineitem l JOIN orders o ON o.o_orderkey = l.l_orderkey " +
      `WHERE l.l_shipmode = $mode AND ${YEAR}`,
    shape: (rows, p) => ({ mode: p.mode, year: Number(p.year), ...rows[0] }),
  },
  {
    path: "/tpch/report/segment",
    latency: "fast",
    params: ["segment", "year"],
    dataset: "tpch",
    sql:
      "SELECT count(*) AS orders, round(sum(o.o_totalprice), 2) AS total FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey " +
      `WHERE c.c_mktsegment = $segment AND ${YEAR}`,
    shape: (rows, p) => ({ segment: p.segment, year: Number(p.year), ...rows[0] }),
  },
];

/** JSON-safe values: BIGINT counts become numbers (they fit: counts of generated rows). */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v !== null && typeof v === "object" && "toString" in v && !Array.isArray(v)) return String(v);
  return v;
}

export async function answerRoute(
  connection: DuckDBConnection,
  route: RouteSpec,
  params: Record<string, string>,
): Promise<unknown> {
  const bound: Record<string, string> = {};
  for (const p of route.params) bound[p] = params[p]!;
  const reader = await connection.runAndReadAll(route.sql, bound);
  const names = reader.columnNames();
  const rows = reader
    .getRows()
    .map((r) => Object.fromEntries(r.map((v, i) => [names[i]!, plain(v)])));
  return route.shape(rows, params);
}
