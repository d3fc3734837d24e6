// collect() asks this one function for an executor, so the Processor (issue 7) takes over by
// registering a factory here, with no change to the frame code.
import { RowByRowExecutor } from "./row-by-row.ts";
import type { Executor } from "./types.ts";

export interface ExecutorChoice {
  /** Ask for one by name ("row-by-row" always exists). */
  executor?: string;
}

type Factory = () => Executor;
const factories = new Map<string, Factory>([["row-by-row", () => new RowByRowExecutor()]]);
let preferred = "row-by-row";

/** Registers an executor; `makeDefault` makes collect() use it unless told otherwise. */
export function registerExecutor(name: string, factory: Factory, makeDefault = false): void {
  factories.set(name, factory);
  if (makeDefault) preferred = name;
}

export function selectExecutor(choice: ExecutorChoice = {}): Executor {
  const name = choice.executor ?? preferred;
  const factory = factories.get(name);
  if (!factory)
    throw new Error(
      `collect: no executor '${name}'; available: ${[...factories.keys()].join(", ")}`,
    );
  return factory();
}
