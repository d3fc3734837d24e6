// Paper workload 1 (movies, diamond): a planner extracts a keyword; three entry agents (one fed
// by two HTTP calls, two by two SQL queries each over the IMDb-like tables) feed two hubs (one
// SQL each), then a tail and a final agent (one SQL). 8 LLM / 9 tool nodes.
import { answer, extract, summarise, SYSTEM_ANALYST, keyword } from "./prompts.ts";
import type { WorkflowShape } from "./types.ts";

const KW_GENRE = `primary_title ILIKE '%' || $kw || '%' AND genres LIKE '%' || $genre || '%'`;

export const moviesDiamond: WorkflowShape = {
  name: "movies-diamond",
  description:
    "planner -> 3 entry agents (2 HTTP, 2x2 SQL) -> 2 hubs (+SQL) -> tail -> final (+SQL)",
  dataset: "imdb",
  inputColumns: ["qid", "question", "genre", "decade"],
  final: "final",
  expected: { llm: 8, tools: 9 },
  nodes: [
    {
      id: "planner",
      type: "llm",
      model: "small",
      maxTokens: 8,
      output: "keyword",
      prompt: keyword("{{question}}"),
    },
    // Entry A: two HTTP calls.
    {
      id: "movie_search",
      type: "http",
      route: "/imdb/search",
      query: { keyword: "{{keyword}}" },
      output: "search_hits",
    },
    {
      id: "genre_top",
      type: "http",
      route: "/imdb/genre-top",
      query: { genre: "{{genre}}", decade: "{{decade}}" },
      output: "genre_top",
    },
    {
      id: "entry_web",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "web_answer",
      system: SYSTEM_ANALYST,
      prompt: answer("{{search_hits}} {{genre_top}}", "{{question}}"),
    },
    // Entry B: titles and rating statistics.
    {
      id: "sql_titles",
      type: "sql",
      output: "titles",
      params: { kw: "{{keyword}}", genre: "{{genre}}" },
      query: `SELECT primary_title, start_year FROM title_basics WHERE ${KW_GENRE} ORDER BY start_year, tconst LIMIT 5`,
    },
    {
      id: "sql_ratings",
      type: "sql",
      output: "ratings",
      params: { genre: "{{genre}}", decade: "{{decade}}" },
      query:
        "SELECT round(avg(r.average_rating), 2) AS avg_rating, count(*) AS titles FROM title_basics b JOIN title_ratings r USING (tconst) " +
        "WHERE b.genres LIKE '%' || $genre || '%' AND b.start_year BETWEEN CAST($decade AS INTEGER) AND CAST($decade AS INTEGER) + 9",
    },
    {
      id: "entry_catalog",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "catalog_answer",
      system: SYSTEM_ANALYST,
      prompt: answer("{{titles}} {{ratings}}", "{{question}}"),
    },
    // Entry C: people.
    {
      id: "sql_directors",
      type: "sql",
      output: "directors",
      params: { kw: "{{keyword}}" },
      query:
        "SELECT n.primary_name, count(*) AS films FROM title_basics b JOIN title_crew c USING (tconst) JOIN name_basics n ON n.nconst = c.directors " +
        "WHERE b.primary_title ILIKE '%' || $kw || '%' GROUP BY n.primary_name ORDER BY films DESC, n.primary_name LIMIT 3",
    },
    {
      id: "sql_cast",
      type: "sql",
      output: "cast_list",
      params: { genre: "{{genre}}" },
      query:
        "SELECT n.primary_name, count(*) AS roles FROM title_principals p JOIN name_basics n USING (nconst) JOIN title_basics b USING (tconst) " +
        "WHERE b.genres LIKE '%' || $genre || '%' AND p.category IN ('actor', 'actress') GROUP BY n.primary_name ORDER BY roles DESC, n.primary_name LIMIT 3",
    },
    {
      id: "entry_people",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "people_answer",
      system: SYSTEM_ANALYST,
      prompt: answer("{{directors}} {{cast_list}}", "{{question}}"),
    },
    // Hubs, one SQL each.
    {
      id: "sql_akas",
      type: "sql",
      output: "akas",
      params: { kw: "{{keyword}}" },
      query:
        "SELECT a.region, count(*) AS titles FROM title_akas a JOIN title_basics b ON a.title_id = b.tconst " +
        "WHERE b.primary_title ILIKE '%' || $kw || '%' AND a.is_original_title = 0 GROUP BY a.region ORDER BY titles DESC, a.region LIMIT 3",
    },
    {
      id: "hub_reach",
      type: "llm",
      model: "small",
      maxTokens: 32,
      output: "reach",
      prompt: answer("{{web_answer}} {{catalog_answer}} {{akas}}", "{{question}}"),
    },
    {
      id: "sql_best",
      type: "sql",
      output: "best",
      params: { genre: "{{genre}}", decade: "{{decade}}" },
      query:
        "SELECT b.primary_title, r.average_rating FROM title_basics b JOIN title_ratings r USING (tconst) " +
        "WHERE b.genres LIKE '%' || $genre || '%' AND b.start_year BETWEEN CAST($decade AS INTEGER) AND CAST($decade AS INTEGER) + 9 " +
        "ORDER BY r.average_rating DESC, r.num_votes DESC, b.tconst LIMIT 1",
    },
    {
      id: "hub_quality",
      type: "llm",
      model: "small",
      maxTokens: 32,
      output: "quality",
      prompt: answer("{{catalog_answer}} {{people_answer}} {{best}}", "{{question}}"),
    },
    {
      id: "tail",
      type: "llm",
      model: "small",
      maxTokens: 32,
      output: "draft",
      prompt: summarise("{{reach}} | {{quality}}"),
    },
    {
      id: "sql_count",
      type: "sql",
      output: "count",
      params: { genre: "{{genre}}", decade: "{{decade}}" },
      query:
        "SELECT count(*) AS titles FROM title_basics WHERE genres LIKE '%' || $genre || '%' " +
        "AND start_year BETWEEN CAST($decade AS INTEGER) AND CAST($decade AS INTEGER) + 9",
    },
    {
      id: "final",
      type: "llm",
      model: "small",
      maxTokens: 48,
      output: "answer",
      prompt: answer("{{draft}} {{count}}", "{{question}}"),
    },
  ],
};
