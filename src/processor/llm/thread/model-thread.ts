// The body of a model thread: one onnxruntime session of a model folder, driven by the
// in-process engine (`RuntimeEngine`, unchanged), with the KV it computes kept here by handle id
// (ThreadKvStore). onnxruntime-node runs `session.run` synchronously on the JS thread that calls
// it (runtime notes, pitfall 9), so running it here is what keeps the main thread free for tools,
// the kernel and the server. Started by threaded-engine.ts, never imported elsewhere; usually
// from a bundle in .cache/threads/ (thread-entry.ts), so nothing it runs may locate files
// relative to its own module URL.
import { parentPort, workerData } from "node:worker_threads";
import { loadModel } from "../../../runtime/index.ts";
import { RuntimeEngine, type RuntimeKv } from "../runtime-engine.ts";
import type { FromThread, ThreadData, ToThread } from "./thread-protocol.ts";
import { ThreadKvStore } from "./thread-kv-store.ts";

const port = parentPort!;
const data = workerData as ThreadData;
const post = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let engine: RuntimeEngine;
let store: ThreadKvStore;
/** Forwards started and not yet answered: "close" waits for them. */
const running = new Set<Promise<void>>();
try {
  const t0 = performance.now();
  // The main thread's load of this folder ran the KV self-test on the same graph already.
  const model = await loadModel(data.modelDir, { ...data.loadOptions, selfTest: false });
  engine = new RuntimeEngine(model);
  store = new ThreadKvStore(model.session.shape);
  post({
    type: "ready",
    modelId: engine.modelId,
    kvBytesPerToken: engine.kvBytesPerToken,
    maxPositions: engine.maxPositions,
    ms: performance.now() - t0,
  });
} catch (error) {
  post({ type: "load-error", message: (error as Error).message });
  process.exit(1); // in a worker: ends this thread only
}

async function forward(m: Extract<ToThread, { type: "forward" }>): Promise<void> {
  const pasts = m.rows.map((r) => (r.past === undefined ? undefined : store.get(r.past)));
  // In steady decoding every past is already here: no await, so no extra turn of the loop.
  const ready = pasts.some((p) => p instanceof Promise)
    ? await Promise.all(pasts)
    : (pasts as (RuntimeKv | undefined)[]);
  const t0 = performance.now();
  const outputs = await engine.forward(
    m.rows.map((r, i) => ({ past: ready[i], tokens: r.tokens })),
  );
  const ms = performance.now() - t0;
  outputs.forEach((out, i) => store.set(m.outIds[i]!, out.kv));
  const logits = outputs.map((out) => out.logits);
  post(
    { type: "forward", seq: m.seq, logits, ms },
    logits.map((l) => l.buffer as ArrayBuffer),
  );
}

port.on("message", (m: ToThread) => {
  if (m.type === "ops" || m.type === "forward" || m.type === "stats")
    for (const op of m.ops) store.apply(op);
  switch (m.type) {
    case "ops":
      return;
    case "forward": {
      const done = forward(m).catch((error: unknown) =>
        post({ type: "error", seq: m.seq, message: (error as Error).message ?? String(error) }),
      );
      running.add(done);
      void done.finally(() => running.delete(done));
      return;
    }
    case "stats":
      post({ type: "stats", seq: m.seq, stats: store.stats() });
      return;
    case "link":
      store.link(m.peer, m.port);
      return;
    case "close":
      // After the forwards posted before it: onnxruntime-node defers a run to setImmediate, and
      // a thread ended while a run is inside onnxruntime aborts the whole process (checked).
      void Promise.allSettled(running)
        .then(() => engine.model.session.dispose())
        .finally(() => {
          post({ type: "closed" });
          process.exit(0);
        });
      return;
  }
});
