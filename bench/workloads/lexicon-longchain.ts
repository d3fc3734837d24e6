// Paper workload 3 (lexicon, long chain): a chain of five agents interleaved with full-text SQL
// over the articles table, a category branch and a link branch (HTTP), a rewriter, and a final
// summariser fed by SQL. 9 LLM / 6 tool nodes. Full-text search is ILIKE / regexp_matches,
// which DuckDB has built in (its fts extension would need a download).
import { answer, extract, rewrite, summarise } from "./prompts.ts";
import type { WorkflowShape } from "./types.ts";

export const lexiconLongchain: WorkflowShape = {
  name: "lexicon-longchain",
  description:
    "5-agent chain with full-text SQL, category branch (HTTP), link branch (HTTP), rewriter, summariser (+SQL)",
  dataset: "articles",
  inputColumns: ["qid", "question", "term", "category"],
  final: "summariser",
  expected: { llm: 9, tools: 6 },
  nodes: [
    {
      id: "sql_search",
      type: "sql",
      output: "passages",
      params: { term: "{{term}}" },
      query:
        "SELECT title, substr(body, 1, 160) AS passage FROM articles WHERE body ILIKE '%' || $term || '%' ORDER BY article_id LIMIT 3",
    },
    {
      id: "a1_topic",
      type: "llm",
      model: "small",
      maxTokens: 8,
      output: "topic",
      prompt: extract("topic", "{{question}} {{passages}}"),
    },
    {
      id: "sql_titles",
      type: "sql",
      output: "title_hits",
      params: { topic: "{{topic}}" },
      query:
        "SELECT title FROM articles WHERE title ILIKE '%' || $topic || '%' ORDER BY article_id LIMIT 5",
    },
    {
      id: "a2_answer",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "first_answer",
      prompt: answer("{{passages}} {{title_hits}}", "{{question}}"),
    },
    {
      id: "sql_pattern",
      type: "sql",
      output: "years",
      params: { term: "{{term}}" },
      query:
        "SELECT published_year, count(*) AS articles FROM articles WHERE regexp_matches(body, '(?i)\\b' || $term || '\\b') " +
        "GROUP BY published_year ORDER BY articles DESC, published_year LIMIT 3",
    },
    {
      id: "a3_refine",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "refined",
      prompt: answer("{{first_answer}} {{years}}", "{{question}}"),
    },
    {
      id: "a4_check",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "checked",
      prompt: summarise("{{refined}} | {{passages}}"),
    },
    {
      id: "a5_expand",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "expanded",
      prompt: answer("{{checked}}", "{{question}}"),
    },
    // Category branch.
    {
      id: "http_category",
      type: "http",
      route: "/articles/category",
      query: { name: "{{category}}" },
      output: "category_info",
    },
    {
      id: "cat_agent",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "category_note",
      prompt: summarise("{{category_info}}"),
    },
    // Link branch.
    {
      id: "http_links",
      type: "http",
      route: "/articles/links",
      query: { term: "{{term}}" },
      output: "linked",
    },
    {
      id: "link_agent",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "link_note",
      prompt: summarise("{{linked}}"),
    },
    {
      id: "rewriter",
      type: "llm",
      model: "small",
      maxTokens: 32,
      output: "rewritten",
      prompt: rewrite("{{expanded}} {{category_note}} {{link_note}}"),
    },
    {
      id: "sql_summary",
      type: "sql",
      output: "stats",
      params: { category: "{{category}}" },
      query:
        "SELECT c.name, count(a.article_id) AS articles, min(a.published_year) AS since FROM categories c " +
        "LEFT JOIN articles a ON a.category_id = c.category_id WHERE c.name = $category OR c.name LIKE $category || '/%' GROUP BY c.name ORDER BY c.name",
    },
    {
      id: "summariser",
      type: "llm",
      model: "small",
      maxTokens: 48,
      output: "answer",
      prompt: summarise("{{rewritten}} | {{stats}}"),
    },
  ],
};
