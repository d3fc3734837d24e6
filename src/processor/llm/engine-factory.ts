// Where an LLM worker's engine comes from: the one place the Processor turns a model (and which of
// its workers, the replica) into what the scheduler drives. Replica 0 is the loaded model itself;
// others are further onnxruntime sessions of its folder, so workers compute independently and keep
// KV in caches of their own. A model that is not the runtime's (a registered object, a remote
// engine) has no forward to batch over and no session to copy: it runs through `generate`.
import type { LlmModel } from "../../executor/types.ts";
import type { LlmEngine } from "./llm-engine.ts";
import { RuntimeEngine, isRuntimeModel, type RuntimeKv } from "./runtime-engine.ts";

/**
 * The model session worker `replica` of `model` runs on: the model itself for replica 0 and for
 * models that are not the runtime's (every worker shares those), else another session of its folder.
 */
export async function modelReplica(model: LlmModel, replica: number): Promise<LlmModel> {
  if (replica === 0 || !isRuntimeModel(model)) return model;
  // Imported here, not at the top: the runtime (onnxruntime) loads only when a model runs.
  const { getModelReplica } = await import("../../runtime/load-model.ts");
  const provider = model.provider as "cpu" | "cuda" | "webgpu";
  return getModelReplica(model.dir, replica, { provider });
}

/**
 * The engine worker `replica` of `model` batches over, or undefined when the model has no batched
 * forward (then its requests go through `generate`, GenerateBatcher).
 */
export async function createEngine(
  model: LlmModel,
  replica: number,
): Promise<LlmEngine<RuntimeKv> | undefined> {
  if (!isRuntimeModel(model)) return undefined;
  const session = await modelReplica(model, replica);
  return new RuntimeEngine(session as typeof model);
}
