// An LlmEngine whose model session runs in a worker thread (model-thread.ts): the scheduler, the
// prefix cache's radix tree and the token choosers stay on the main thread and hold `ThreadKv`
// handles; forwards, KV and every KV copy stay in the thread. Only token ids go in and the last
// position's logits come back (transferred). Measured (docs/processor.md, "Model threads"): the
// main thread's event loop stays responsive during a collect instead of stalling for whole
// forwards, and the main heap no longer pays the GCs that the KV buffers' memory triggered.
//
//   const engine = await ThreadedEngine.open(modelDir);        // or new ThreadedEngine(model)
//   const worker = new LlmWorker(engine, { ... });             // as with RuntimeEngine
//   await engine.dispose();                                    // ends the thread
//
// Lifecycle: the thread is unref'd while no request waits on it, so it never keeps a process
// alive. `dispose` (or `closeModelThreads` in model-threads.ts, at shutdown) ends it after the
// forwards posted before, because ending a thread while onnxruntime runs inside it aborts the
// process. A thread that fails to load, a forward that throws, or a thread that dies all reject
// the caller with an error naming the model and its thread; nothing waits forever.
import { Worker, MessageChannel, type ResourceLimits } from "node:worker_threads";
import { getModel, type LoadOptions, type Model } from "../../../runtime/index.ts";
import type { GenerateRequest } from "../../../runtime/types.ts";
import type { ForwardInput, ForwardOutput, LlmEngine, SequenceDecoder } from "../llm-engine.ts";
import { RuntimeEngine } from "../runtime-engine.ts";
import { trackModelThread, untrackModelThread } from "./model-threads.ts";
import { threadEntry } from "./thread-entry.ts";
import { ThreadKv, type KvHandleOwner } from "./thread-kv.ts";
import type { FromThread, KvOp, ThreadData, ThreadKvStats, ToThread } from "./thread-protocol.ts";

export interface ThreadedEngineOptions {
  /** Changes to how the thread loads the model (threads); default: as `model` was loaded. */
  loadOptions?: LoadOptions;
  /** Limits on the thread's JS heap (KV buffers are outside it). Default: Node's. */
  resourceLimits?: ResourceLimits;
}

/** Time spent starting the thread and in forwards, for measurements. */
export interface ThreadedEngineTiming {
  /** From creating the engine to the thread's model being ready. */
  startMs: number;
  forwards: number;
  /** New tokens run (prefill and decode). */
  tokens: number;
  /** Inside the thread: the batched forward itself (RuntimeEngine.forward). */
  threadMs: number;
  /** On the main thread: from posting a forward to having its logits. */
  roundTripMs: number;
}

type Reply = Extract<FromThread, { seq: number }>;
/** A request as callers write it: its queued KV operations are added when it is posted. */
type Request =
  Extract<ToThread, { seq: number }> extends infer R
    ? R extends unknown
      ? Omit<R, "ops">
      : never
    : never;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

export class ThreadedEngine implements LlmEngine<ThreadKv>, KvHandleOwner {
  readonly modelId: string;
  readonly kvBytesPerToken: number;
  readonly maxPositions: number;
  /** The model and its thread, as errors name them. */
  readonly label: string;
  /** Resolves once the thread has loaded the model; rejects when it could not. */
  readonly ready: Promise<void>;
  readonly timing: ThreadedEngineTiming = {
    startMs: 0,
    forwards: 0,
    tokens: 0,
    threadMs: 0,
    roundTripMs: 0,
  };
  private readonly worker: Worker;
  /** The main thread's model, for choosing tokens (tokenizer, stop rules); never runs a forward. */
  private readonly decoding: RuntimeEngine;
  private readonly pending = new Map<number, Pending>();
  private readonly linked = new Set<number>();
  private readonly exited: Promise<void>;
  private readonly finalizer = new FinalizationRegistry<number>((id) =>
    this.post({ op: "release", id }),
  );
  private ops: KvOp[] = [];
  private nextId = 1;
  private nextSeq = 1;
  /** Set once the thread cannot serve: why every later call fails. */
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private stopped = false;

  /** A thread for the model in `dir` (the main thread's `getModel(dir)` does the decoding). */
  static async open(dir: string, options: ThreadedEngineOptions = {}): Promise<ThreadedEngine> {
    const engine = new ThreadedEngine(await getModel(dir, options.loadOptions), options);
    await engine.ready;
    return engine;
  }

  /**
   * Starts a thread that loads `model`'s folder again (its own onnxruntime session, like a
   * replica). `model` stays on this thread for tokenizing and choosing tokens.
   */
  constructor(model: Model, options: ThreadedEngineOptions = {}) {
    this.decoding = new RuntimeEngine(model);
    this.modelId = this.decoding.modelId;
    this.kvBytesPerToken = this.decoding.kvBytesPerToken;
    this.maxPositions = this.decoding.maxPositions;
    const data: ThreadData = {
      modelDir: model.dir,
      // The same graph (dtype, onnxFile, per-token rewrite) in the layout the main thread's
      // self-test proved: a default load would open another variant, or batch a GPT-2-style
      // graph padded where only per-length groups are exact.
      loadOptions: {
        ...model.loadOptions,
        provider: model.provider as LoadOptions["provider"],
        ...options.loadOptions,
        layout: model.layout,
      },
    };
    const entry = threadEntry();
    this.worker = new Worker(entry.script, {
      ...entry.options,
      workerData: data,
      resourceLimits: options.resourceLimits,
    });
    this.label = `model ${model.id} (thread ${this.worker.threadId})`;
    trackModelThread(this);
    const created = performance.now();
    this.ready = new Promise<void>((resolve, reject) => {
      this.pending.set(0, {
        resolve: () => {
          this.timing.startMs = performance.now() - created;
          resolve();
        },
        reject,
      });
    });
    this.ready.catch(() => {}); // every call rejects with the same error; none need await this
    let crash: Error | undefined;
    this.worker.on("message", (m: FromThread) => this.receive(m));
    this.worker.on("error", (error) => (crash = error));
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        this.stopped = true;
        untrackModelThread(this);
        this.fail(
          this.closing
            ? new Error(`${this.label} was disposed`)
            : new Error(
                `${this.label} stopped${crash ? `: ${crash.message}` : ` (exit code ${code})`}; its KV is lost, run again`,
              ),
        );
        resolve();
      }),
    );
  }

  /** False once the thread has stopped, failed to load or was disposed. */
  get alive(): boolean {
    return this.failure === undefined && this.closing === undefined;
  }

  /** The worker's thread id: names this engine to other model threads (KV moves). */
  get threadId(): number {
    return this.worker.threadId;
  }

  async forward(inputs: readonly ForwardInput<ThreadKv>[]): Promise<ForwardOutput<ThreadKv>[]> {
    const rows = inputs.map(({ past, tokens }) => {
      if (past && past.owner !== this)
        throw new Error(`${this.label}: a past from ${past.owner.label}: adopt it first`);
      past?.checkLive("forward");
      return { past: past?.id, tokens };
    });
    const outIds = inputs.map(() => this.nextId++);
    const t0 = performance.now();
    const reply = await this.request({ type: "forward", seq: this.nextSeq++, rows, outIds });
    if (reply.type !== "forward") throw new Error(`${this.label}: unexpected ${reply.type} reply`);
    this.timing.forwards++;
    for (const row of rows) this.timing.tokens += row.tokens.length;
    this.timing.threadMs += reply.ms;
    this.timing.roundTripMs += performance.now() - t0;
    return reply.logits.map((logits, i) => {
      const n = (inputs[i]!.past?.numTokens ?? 0) + inputs[i]!.tokens.length;
      return { logits, kv: this.handle(outIds[i]!, n) };
    });
  }

  createDecoder(request: GenerateRequest): SequenceDecoder {
    return this.decoding.createDecoder(request);
  }

  /**
   * A handle in this engine's thread for the KV of `handle`, which may live in another model
   * thread: then a copy moves thread to thread (buffers transferred over a port between the two;
   * nothing passes through the main thread). The caller owns (and releases) both handles.
   */
  adopt(handle: ThreadKv): ThreadKv {
    handle.checkLive("adopt");
    if (handle.owner === this) return handle.concat([]);
    const source = handle.owner;
    if (!(source instanceof ThreadedEngine))
      throw new Error(`${this.label}: cannot adopt KV of ${source.label}`);
    this.link(source);
    const id = this.nextId++;
    source.post({ op: "send", id: handle.id, peer: this.threadId, as: id });
    this.post({ op: "receive", id, peer: source.threadId });
    return this.handle(id, handle.numTokens);
  }

  /** Live KV in the thread (entries, bytes): how tests see eviction free memory. */
  async kvStats(): Promise<ThreadKvStats> {
    const reply = await this.request({ type: "stats", seq: this.nextSeq++ });
    if (reply.type !== "stats") throw new Error(`${this.label}: unexpected ${reply.type} reply`);
    return reply.stats;
  }

  /** Ends the thread once the forwards posted before have run; later calls fail. */
  dispose(): Promise<void> {
    this.closing ??= (async () => {
      if (this.stopped) return;
      this.flush();
      this.worker.ref();
      this.worker.postMessage({ type: "close" } satisfies ToThread);
      await this.exited;
    })();
    return this.closing;
  }

  derive(op: Parameters<KvHandleOwner["derive"]>[0], numTokens: number): ThreadKv {
    const id = this.nextId++;
    this.post({ ...op, id } as KvOp);
    return this.handle(id, numTokens);
  }

  release(handle: ThreadKv): void {
    this.finalizer.unregister(handle);
    this.post({ op: "release", id: handle.id });
  }

  private handle(id: number, numTokens: number): ThreadKv {
    const handle = new ThreadKv(this, id, numTokens);
    this.finalizer.register(handle, id, handle);
    return handle;
  }

  /**
   * Queues a KV operation. Queued ones ride on the next request, or go out on their own at the
   * next turn of the loop: a decode step's releases then travel with the next step's forward.
   */
  private post(op: KvOp): void {
    if (this.failure) return; // the thread and its KV are gone
    if (this.ops.length === 0) setImmediate(() => this.flush());
    this.ops.push(op);
  }

  private flush(): void {
    if (this.ops.length === 0 || this.failure) return;
    this.worker.postMessage({ type: "ops", ops: this.takeOps() } satisfies ToThread);
  }

  private takeOps(): KvOp[] {
    const ops = this.ops;
    this.ops = [];
    return ops;
  }

  /** Connects this thread and `peer`'s by a port pair, once, before their first move. */
  private link(peer: ThreadedEngine): void {
    if (this.linked.has(peer.threadId)) return;
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ type: "link", peer: peer.threadId, port: port1 } satisfies ToThread, [
      port1,
    ]);
    peer.worker.postMessage({ type: "link", peer: this.threadId, port: port2 } satisfies ToThread, [
      port2,
    ]);
    this.linked.add(peer.threadId);
    peer.linked.add(this.threadId);
  }

  /** Posts a request with the KV operations queued before it (one message per decode step). */
  private request(message: Request): Promise<Reply> {
    if (this.closing && !this.failure)
      return Promise.reject(new Error(`${this.label} was disposed`));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref(); // a waiting caller keeps the process up
      this.pending.set(message.seq, { resolve, reject });
      this.worker.postMessage({ ...message, ops: this.takeOps() } as ToThread);
    });
  }

  private settle(seq: number): Pending | undefined {
    const p = this.pending.get(seq);
    this.pending.delete(seq);
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
    return p;
  }

  private receive(m: FromThread): void {
    switch (m.type) {
      case "ready":
        if (m.modelId !== this.modelId || m.kvBytesPerToken !== this.kvBytesPerToken) {
          this.fail(
            new Error(
              `${this.label}: the thread loaded ${m.modelId} (${m.kvBytesPerToken} KV bytes per token), not the main thread's model: the folder changed; load it again`,
            ),
          );
          void this.dispose();
          return;
        }
        this.settle(0)?.resolve(m as never);
        return;
      case "load-error":
        this.fail(new Error(`${this.label} could not load the model: ${m.message}`));
        return;
      case "error":
        this.settle(m.seq)?.reject(new Error(`${this.label}: forward failed: ${m.message}`));
        return;
      case "forward":
      case "stats":
        this.settle(m.seq)?.resolve(m);
        return;
      case "closed":
        return;
    }
  }

  /** Rejects every waiting call with `error`, and every later one. */
  private fail(error: Error): void {
    this.failure ??= error;
    this.ops = [];
    for (const seq of [...this.pending.keys()]) this.settle(seq)?.reject(this.failure);
  }
}
