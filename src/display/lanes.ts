// Lanes of a run trace in reading order (LLM workers, then tool pools, then CPU) with names a
// reader understands without knowing the Processor's lane ids.

const TOOL_ORDER = ["sql", "http", "function"];

function laneRank(lane: string): [number, number, string] {
  const llm = /^llm:(\d+)$/.exec(lane);
  if (llm) return [0, Number(llm[1]), lane];
  const tool = /^tool:(.+)$/.exec(lane);
  if (tool) {
    const i = TOOL_ORDER.indexOf(tool[1]!);
    return [1, i < 0 ? TOOL_ORDER.length : i, lane];
  }
  if (lane === "cpu") return [2, 0, lane];
  return [3, 0, lane];
}

export function sortLanes(lanes: Iterable<string>): string[] {
  return [...new Set(lanes)].sort((a, b) => {
    const ra = laneRank(a);
    const rb = laneRank(b);
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2].localeCompare(rb[2]);
  });
}

/** "llm:0" -> "LLM worker 0", "tool:http" -> "HTTP pool", "cpu" -> "CPU". */
export function laneTitle(lane: string): string {
  const llm = /^llm:(.+)$/.exec(lane);
  if (llm) return `LLM worker ${llm[1]}`;
  const tool = /^tool:(.+)$/.exec(lane);
  if (tool) {
    const name = tool[1]!;
    return `${name === "sql" || name === "http" ? name.toUpperCase() : name} pool`;
  }
  if (lane === "cpu") return "CPU";
  return lane;
}
