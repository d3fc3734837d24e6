// Adds the plan verbs to danfo's DataFrame so `df.agent({...})` starts a LazyFrame. Only names
// danfo does not define (checked: agent, sql, http, tool, lazy are free in danfojs-node 1.2.0),
// so no eager danfo method changes meaning.
import { DataFrame } from "danfojs-node";
import type { ToolFn } from "../plan/types.ts";
import { LazyFrame } from "./lazy-frame.ts";
import type { AgentSpec } from "./verbs/agent.ts";
import type { HttpSpec } from "./verbs/http.ts";
import type { SqlSpec } from "./verbs/sql.ts";
import type { ToolSpec } from "./verbs/tool.ts";

// danfo declares DataFrame as this file's default-exported class; an `export default interface`
// of the same name merges with it (a plain `interface` in the augmentation would not).
declare module "danfojs-node/dist/danfojs-node/src/core/frame.js" {
  export default interface DataFrame {
    /** This frame as the source of a lazy plan. */
    lazy(): LazyFrame;
    /** An LLM call per row: `halo.lazy(df).agent(spec)`. */
    agent(spec: AgentSpec): LazyFrame;
    sql(spec: SqlSpec): LazyFrame;
    http(spec: HttpSpec): LazyFrame;
    tool(fn: ToolFn | ((...args: never[]) => unknown), spec: ToolSpec): LazyFrame;
  }
}

const verbs = {
  lazy(this: DataFrame) {
    return LazyFrame.from(this);
  },
  agent(this: DataFrame, spec: AgentSpec) {
    return LazyFrame.from(this).agent(spec);
  },
  sql(this: DataFrame, spec: SqlSpec) {
    return LazyFrame.from(this).sql(spec);
  },
  http(this: DataFrame, spec: HttpSpec) {
    return LazyFrame.from(this).http(spec);
  },
  tool(this: DataFrame, fn: ToolFn, spec: ToolSpec) {
    return LazyFrame.from(this).tool(fn, spec);
  },
};

export function installDataFrameVerbs(proto: object = DataFrame.prototype): void {
  for (const [name, fn] of Object.entries(verbs)) {
    if (Object.prototype.hasOwnProperty.call(proto, name)) continue;
    Object.defineProperty(proto, name, {
      value: fn,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}
