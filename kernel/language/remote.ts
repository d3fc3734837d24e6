// LanguageTools backed by the language service on a worker thread (language/worker.ts), so
// loading TypeScript never blocks the main thread: cells keep running and interrupts keep
// landing while it warms. Live values of untyped names are looked up here, where they live.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { HALO_ROOT, KERNEL_DIR } from "../paths.ts";
import { inspectLiveValue } from "./live-value.ts";
import type { Completion, Inspection, LanguageTools } from "./tools.ts";
import type { LanguageRequest, LanguageResponse } from "./worker-types.ts";

// Distributes LanguageRequest over its union members, so `Omit` keeps each op's fields.
type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface RemoteLanguageTools extends LanguageTools {
  /** Loads TypeScript and builds the first program in the background; resolves when done. */
  warm(): Promise<void>;
  /** Ends the worker (pending requests fail). */
  close(): Promise<void>;
}

/** The worker's script: beside the kernel bundle (kernel/launch.mjs builds it as an entry),
 *  else the TypeScript source through tsx (`halo kernel`, tests). */
function startWorker(notebookDir: string): Worker {
  const bundled = fileURLToPath(new URL("./language-worker.js", import.meta.url));
  const workerData = { notebookDir };
  if (existsSync(bundled)) return new Worker(bundled, { workerData });
  const tsx = pathToFileURL(join(HALO_ROOT, "node_modules/tsx/dist/esm/api/index.mjs")).href;
  const entry = pathToFileURL(join(KERNEL_DIR, "language", "worker.ts")).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData },
  );
}

export function startLanguageWorker(notebookDir = process.cwd()): RemoteLanguageTools {
  const worker = startWorker(notebookDir);
  let nextId = 1;
  let failure: Error | undefined;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const failAll = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on("message", (m: LanguageResponse) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    holdWhilePending();
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(`language service: ${m.error}`));
  });
  worker.on("error", (err) => failAll(new Error(`language service failed: ${err.message}`)));
  worker.on("exit", (code) => failAll(new Error(`language service exited (code ${code})`)));
  // The worker keeps the process alive only while a request waits on it (an idle one must not
  // hold a test or the kernel open). After the listeners: attaching one refs the worker again.
  const holdWhilePending = () => (pending.size > 0 ? worker.ref() : worker.unref());
  holdWhilePending();

  const call = <T>(request: Without<LanguageRequest, "id">): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      holdWhilePending();
      worker.postMessage({ ...request, id } as LanguageRequest);
    });
  };

  return {
    warm: () => call<undefined>({ op: "warm" }),
    complete: (earlier, code, cursor) =>
      call<Completion>({ op: "complete", earlier, code, cursor }),
    async inspect(earlier, code, cursor, detailLevel): Promise<Inspection> {
      const typed = await call<Inspection>({ op: "inspect", earlier, code, cursor, detailLevel });
      return typed.found ? typed : inspectLiveValue(code, cursor);
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** Whether a failed worker should be replaced: the next request starts a fresh one. */
export function isWorkerFailure(err: unknown): boolean {
  return err instanceof Error && /^language service (failed|exited)/.test(err.message);
}
