// Loads the fixture run traces and plan graph (see test/fixtures/display/make-traces.ts).
import { readFileSync } from "node:fs";
import type { RunTrace } from "../../src/processor/trace/trace.ts";
import type { PlanGraph } from "../../src/display/plan-graph-types.ts";

const dir = new URL("../fixtures/display/", import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, dir), "utf8"));

export const pipelineTrace = (): RunTrace => load("pipeline-trace.json");
export const smallTrace = (): RunTrace => load("small-trace.json");
export const planGraph = (): PlanGraph => load("plan-graph.json");
