// The model threads running in this process. Shutdown paths (kernel, server) end them through
// here without importing the runtime: ending a process while a thread is inside onnxruntime
// aborts it (`Napi::Error` at teardown, checked), so they close their threads first, then exit.
import type { ThreadedEngine } from "./threaded-engine.ts";

const running = new Set<ThreadedEngine>();

export function trackModelThread(engine: ThreadedEngine): void {
  running.add(engine);
}

export function untrackModelThread(engine: ThreadedEngine): void {
  running.delete(engine);
}

/** The engines whose thread is running now (measurements read their timing). */
export function listModelThreads(): ThreadedEngine[] {
  return [...running];
}

/** Ends every model thread of this process, each once its current forwards have run. */
export async function closeModelThreads(): Promise<void> {
  await Promise.all([...running].map((engine) => engine.dispose()));
}
