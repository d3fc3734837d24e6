// Where an LLM worker's engine comes from: the one place the Processor turns a model (and which of
// its workers, the replica) into what the scheduler drives. A local ONNX model runs in a worker
// thread of its own by default (`llm.modelThreads`, ProcessorConfig), so forwards never block the
// JS thread that runs tools, the kernel and the server; `modelThreads: false` keeps it in-process
// on the JS thread. Replica 0 is the loaded model itself; others compute independently and keep KV
// in caches of their own, loading the same graph (dtype, onnxFile) in the layout the model's
// self-test chose; float16 KV stays 2 bytes a value in every engine. A model that is not the runtime's (a registered object, a remote engine)
// has no forward to batch over and no session to copy: it runs through `generate`.
import type { LlmModel } from "../../executor/types.ts";
import { Model } from "../../runtime/index.ts";
import type { LlmEngine } from "./llm-engine.ts";
import { RuntimeEngine, isRuntimeModel, type RuntimeKv } from "./runtime-engine.ts";
import { ThreadedEngine } from "./thread/threaded-engine.ts";
import type { ThreadKv } from "./thread/thread-kv.ts";

/** KV of a local model's worker: in-process payloads, or handles on KV in its model thread. */
export type LocalKv = RuntimeKv | ThreadKv;

/** How a worker's engine runs its model (ProcessorConfig.llm's `modelThreads`). */
export interface EngineKind {
  /** In a worker thread of its own (true), or in-process on the JS thread (false). */
  modelThreads: boolean;
}

/**
 * Per model session (a replica's view with threads, else the session itself), its thread for the
 * whole process: every Processor and every worker shape of that session shares it (a thread holds
 * a model session's memory), each worker keeping its own prefix cache of handles into it. Keyed
 * weakly: an unloaded model frees the entry.
 */
const threads = new WeakMap<Model, ThreadedEngine>();

/**
 * The engine worker `replica` of `model` batches over, or undefined when the model has no batched
 * forward (then its requests go through `generate`, GenerateBatcher). With model threads, the
 * replica's running thread (started on first use, and again once it stopped: its KV is gone, so
 * the caller starts a cold cache with it); in-process, an engine over the replica's session.
 */
export async function createEngine(
  model: LlmModel,
  replica: number,
  kind: EngineKind,
): Promise<LlmEngine<LocalKv> | undefined> {
  if (!isRuntimeModel(model)) return undefined;
  if (!kind.modelThreads) return new RuntimeEngine((await modelReplica(model, replica)) as Model);
  const session = threadReplica(model, replica);
  let thread = threads.get(session);
  if (!thread?.alive) threads.set(session, (thread = new ThreadedEngine(session)));
  return thread;
}

/**
 * How another worker's KV becomes usable by `engine` (KvExchange's `adopt`): a thread adopts a
 * handle from another model thread, the KV moving thread to thread by transfer. Undefined where
 * any payload is usable as it is (in-process engines of one process).
 */
export function kvAdopter(engine: LlmEngine<LocalKv>): ((kv: LocalKv) => LocalKv) | undefined {
  return engine instanceof ThreadedEngine ? (kv) => engine.adopt(kv as ThreadKv) : undefined;
}

/** True once `engine` can serve no more (its model thread stopped): a new one replaces it. */
export function engineStopped(engine: LlmEngine<LocalKv>): boolean {
  return engine instanceof ThreadedEngine && !engine.alive;
}

/**
 * The model session worker `replica` of `model` runs on in-process: the model itself for replica
 * 0 and for models that are not the runtime's (every worker shares those), else another
 * onnxruntime session of its folder (`getModelReplica`, cached per process).
 */
export async function modelReplica(model: LlmModel, replica: number): Promise<LlmModel> {
  if (replica === 0 || !isRuntimeModel(model)) return model;
  // Imported here, not at the top: the runtime (onnxruntime) loads only when a model runs.
  const { getModelReplica } = await import("../../runtime/load-model.ts");
  const provider = model.provider as "cpu" | "cuda" | "webgpu";
  // the same variant (dtype, onnxFile, per-token rewrite): a bare folder load opens the default
  return getModelReplica(model.dir, replica, { ...(model as Model).loadOptions, provider });
}

const threadReplicas = new WeakMap<Model, Map<number, Model>>();

/**
 * Replica `replica` of `model` when workers run in threads: its session is its thread's, so this
 * thread needs none of its own. The same model (tokenizer, config, this thread's session, which
 * it never runs) under another identity, which keys its own thread. Replica 0 is the model.
 */
export function threadReplica(model: Model, replica: number): Model {
  if (replica === 0) return model;
  const byIndex = threadReplicas.get(model) ?? new Map<number, Model>();
  threadReplicas.set(model, byIndex);
  let view = byIndex.get(replica);
  if (!view) {
    // the same graph and load options: its thread loads the same variant in the same layout
    view = new Model(
      model.id,
      model.dir,
      model.config,
      model.tokenizer,
      model.session,
      model.graph,
      model.loadOptions,
    );
    view.selfTestResult = model.selfTestResult;
    byIndex.set(replica, view);
  }
  return view;
}
