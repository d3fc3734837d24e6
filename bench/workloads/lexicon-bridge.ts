// Paper workload 4 (lexicon, bridge): a three-agent main chain, a category bridge (HTTP), a
// language bridge (SQL over the second, "de" partition through langlinks), a sampler, and a
// final agent. 9 LLM / 3 tool nodes.
import { answer, extract, label, rewrite, summarise, keyword } from "./prompts.ts";
import type { WorkflowShape } from "./types.ts";

export const CONFIDENCE = ["high", "medium", "low"] as const;

export const lexiconBridge: WorkflowShape = {
  name: "lexicon-bridge",
  description:
    "3-agent main chain + category bridge (HTTP, 2 agents) + language bridge (SQL, 2 agents) + sampler + final",
  dataset: "articles",
  inputColumns: ["qid", "question", "term", "category"],
  final: "final",
  expected: { llm: 9, tools: 3 },
  nodes: [
    {
      id: "sql_search",
      type: "sql",
      output: "passages",
      params: { term: "{{term}}" },
      query:
        "SELECT article_id, title, substr(body, 1, 160) AS passage FROM articles WHERE body ILIKE '%' || $term || '%' ORDER BY article_id LIMIT 3",
    },
    {
      id: "m1_topic",
      type: "llm",
      model: "small",
      maxTokens: 8,
      output: "topic",
      prompt: keyword("{{question}}"),
    },
    {
      id: "m2_answer",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "main_answer",
      prompt: answer("{{passages}}", "{{question}}"),
    },
    {
      id: "m3_polish",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "main_out",
      prompt: rewrite("{{main_answer}} {{topic}}"),
    },
    // Category bridge.
    {
      id: "http_category",
      type: "http",
      route: "/articles/category",
      query: { name: "{{category}}" },
      output: "category_info",
    },
    {
      id: "cb_a",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "category_facts",
      prompt: answer("{{category_info}}", "{{question}}"),
    },
    {
      id: "cb_b",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "category_out",
      prompt: summarise("{{category_facts}}"),
    },
    // Language bridge: the same term's articles in the "de" partition.
    {
      id: "sql_de",
      type: "sql",
      output: "de_passages",
      params: { term: "{{term}}" },
      query:
        "SELECT d.title, substr(d.body, 1, 160) AS passage FROM articles a JOIN langlinks l ON l.article_id = a.article_id AND l.lang = 'de' " +
        "JOIN articles_de d ON d.article_id = l.target_id WHERE a.body ILIKE '%' || $term || '%' ORDER BY a.article_id LIMIT 3",
    },
    {
      id: "lb_a",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "de_facts",
      prompt: extract("title", "{{de_passages}}"),
    },
    {
      id: "lb_b",
      type: "llm",
      model: "small",
      maxTokens: 24,
      output: "de_out",
      prompt: answer("{{de_facts}}", "{{question}}"),
    },
    {
      id: "sampler",
      type: "llm",
      model: "small",
      maxTokens: 4,
      output: "confidence",
      choices: [...CONFIDENCE],
      prompt: label("confidence", CONFIDENCE, "{{main_out}} {{category_out}} {{de_out}}"),
    },
    {
      id: "final",
      type: "llm",
      model: "small",
      maxTokens: 48,
      output: "answer",
      prompt: answer("{{main_out}} {{category_out}} {{de_out}} ({{confidence}})", "{{question}}"),
    },
  ],
};
