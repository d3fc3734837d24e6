// Makes the Processor available to collect(): `collect({ executor: "processor" })`, or the
// default with `registerProcessor({ makeDefault: true })`. Importing this file registers it.
import { registerExecutor } from "../executor/select.ts";
import { PipelineExecutor, type PipelineOptions } from "./pipeline-executor.ts";

export function registerProcessor(options: PipelineOptions & { makeDefault?: boolean } = {}): void {
  const { makeDefault = false, ...rest } = options;
  registerExecutor("processor", () => new PipelineExecutor(rest), makeDefault);
}

registerProcessor();
