// Paper workload 2 (movies, triple chain): a planner, then three parallel chains of 2, 2 and 3
// agents, each chain pinned to a different model size, a rewriter and a final merge.
// 10 LLM / 3 tool nodes.
import { answer, extract, rewrite, summarise, keyword } from "./prompts.ts";
import type { WorkflowShape } from "./types.ts";

export const moviesTriplechain: WorkflowShape = {
  name: "movies-triplechain",
  description: "planner -> chains of 2 (small), 2 (medium), 3 (large) agents -> rewriter -> merge",
  dataset: "imdb",
  inputColumns: ["qid", "question", "genre", "decade"],
  final: "merge",
  expected: { llm: 10, tools: 3 },
  nodes: [
    {
      id: "planner",
      type: "llm",
      model: "small",
      maxTokens: 8,
      output: "keyword",
      prompt: keyword("{{question}}"),
    },
    // Chain 1 (small): catalog facts.
    {
      id: "sql_titles",
      type: "sql",
      output: "titles",
      params: { kw: "{{keyword}}" },
      query:
        "SELECT b.primary_title, b.start_year, r.average_rating FROM title_basics b JOIN title_ratings r USING (tconst) " +
        "WHERE b.primary_title ILIKE '%' || $kw || '%' ORDER BY r.num_votes DESC, b.tconst LIMIT 5",
    },
    {
      id: "c1_a",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "c1_facts",
      prompt: answer("{{titles}}", "{{question}}"),
    },
    {
      id: "c1_b",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "c1_out",
      prompt: summarise("{{c1_facts}}"),
    },
    // Chain 2 (medium): the web view.
    {
      id: "http_genre",
      type: "http",
      route: "/imdb/genre-top",
      query: { genre: "{{genre}}", decade: "{{decade}}" },
      output: "genre_top",
    },
    {
      id: "c2_a",
      type: "llm",
      model: "medium",
      maxTokens: 24,
      output: "c2_facts",
      prompt: answer("{{genre_top}}", "{{question}}"),
    },
    {
      id: "c2_b",
      type: "llm",
      model: "medium",
      maxTokens: 24,
      output: "c2_out",
      prompt: summarise("{{c2_facts}}"),
    },
    // Chain 3 (large): people.
    {
      id: "sql_people",
      type: "sql",
      output: "people",
      params: { kw: "{{keyword}}" },
      query:
        "SELECT n.primary_name, p.category FROM title_principals p JOIN name_basics n USING (nconst) JOIN title_basics b USING (tconst) " +
        "WHERE b.primary_title ILIKE '%' || $kw || '%' ORDER BY b.tconst, p.ordering LIMIT 6",
    },
    {
      id: "c3_a",
      type: "llm",
      model: "large",
      maxTokens: 24,
      output: "c3_facts",
      prompt: answer("{{people}}", "{{question}}"),
    },
    {
      id: "c3_b",
      type: "llm",
      model: "large",
      maxTokens: 24,
      output: "c3_mid",
      prompt: summarise("{{c3_facts}}"),
    },
    {
      id: "c3_c",
      type: "llm",
      model: "large",
      maxTokens: 24,
      output: "c3_out",
      prompt: rewrite("{{c3_mid}}"),
    },
    {
      id: "rewriter",
      type: "llm",
      model: "medium",
      maxTokens: 32,
      output: "rewritten",
      prompt: rewrite("{{c1_out}} {{c2_out}} {{c3_out}}"),
    },
    {
      id: "merge",
      type: "llm",
      model: "small",
      maxTokens: 48,
      output: "answer",
      prompt: answer("{{rewritten}}", "{{question}}"),
    },
  ],
};
