// One colour per kind of work, shared by the timeline, the node charts and the plan drawing, so
// "blue is the LLM" holds on every picture. Tableau 10 hues: distinct for common colour-vision
// deficiencies and readable on white.

/** Task kinds of the run trace (src/processor/trace/trace.ts TaskKind) plus idle time. */
export const TASK_COLORS: Record<string, string> = {
  prefill: "#4e79a7",
  decode: "#a0cbe8",
  "kv-move": "#e15759",
  sql: "#f28e2b",
  http: "#59a14f",
  function: "#b07aa1",
  relational: "#9c755f",
  "model-load": "#bab0ac",
  idle: "#e6e6e6",
};

/** Families of plan node kinds: fill and stroke for the plan drawing. */
export type KindFamily = "llm" | "sql" | "http" | "function" | "relational" | "io" | "other";

export const FAMILY_COLORS: Record<KindFamily, { fill: string; stroke: string; name: string }> = {
  llm: { fill: "#dbe6f1", stroke: "#4e79a7", name: "LLM" },
  sql: { fill: "#fde5cc", stroke: "#f28e2b", name: "SQL" },
  http: { fill: "#dcebd8", stroke: "#59a14f", name: "HTTP" },
  function: { fill: "#efe3ec", stroke: "#b07aa1", name: "function" },
  relational: { fill: "#ebe2dc", stroke: "#9c755f", name: "relational" },
  io: { fill: "#eeeeee", stroke: "#79706e", name: "source / sink" },
  other: { fill: "#ffffff", stroke: "#888888", name: "other" },
};

/** Maps a plan node kind ("LlmCall", "SqlCall", "Filter", "Source", ...) to its family. */
export function kindFamily(kind: string): KindFamily {
  const k = kind.toLowerCase().replace(/[^a-z]/g, "");
  if (/^(llm|agent|llmcall|generate|prompt)/.test(k)) return "llm";
  if (/^sql/.test(k)) return "sql";
  if (/^http/.test(k)) return "http";
  if (/^(fn|function|tool|udf|js)/.test(k)) return "function";
  if (/^(source|sink|scan|read|write|collect|output|input)/.test(k)) return "io";
  if (
    /^(map|filter|join|project|select|sort|limit|aggregate|groupby|union|with|drop|rename|relational|concat|distinct|explode|head)/.test(
      k,
    )
  )
    return "relational";
  return "other";
}
