// LanguageTools backed by the language service in a child process (language/worker.ts), so
// loading TypeScript never blocks the kernel: cells keep running and interrupts keep landing
// while it warms, and a shutdown never waits for it. Live values of untyped names are looked up
// here, where they live.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fork, type ChildProcess } from "node:child_process";
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
function startWorker(notebookDir: string): ChildProcess {
  const bundled = fileURLToPath(new URL("./language-worker.js", import.meta.url));
  const options = {
    env: { ...process.env, HALO_NOTEBOOK_DIR: notebookDir },
    // Its stdout is not the kernel's to show; errors still reach the kernel's log.
    stdio: ["ignore", "ignore", "inherit", "ipc"] as ("ignore" | "inherit" | "ipc")[],
    serialization: "advanced" as const,
  };
  if (existsSync(bundled)) return fork(bundled, [], options);
  const tsx = pathToFileURL(join(HALO_ROOT, "node_modules/tsx/dist/esm/index.mjs")).href;
  return fork(join(KERNEL_DIR, "language", "worker.ts"), [], {
    ...options,
    execArgv: ["--import", tsx],
  });
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
  // The worker keeps the kernel alive only while a request waits on it (an idle one must not
  // hold a test or the kernel open): the process and its IPC channel both.
  const holdWhilePending = () => {
    if (pending.size > 0) {
      worker.ref();
      worker.channel?.ref();
    } else {
      worker.unref();
      worker.channel?.unref();
    }
  };
  holdWhilePending();

  const call = <T>(request: Without<LanguageRequest, "id">): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      holdWhilePending();
      worker.send({ ...request, id } as LanguageRequest);
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
      if (worker.exitCode !== null || worker.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.kill("SIGKILL");
      await exited;
    },
  };
}

/** Whether a failed worker should be replaced: the next request starts a fresh one. */
export function isWorkerFailure(err: unknown): boolean {
  return err instanceof Error && /^language service (failed|exited)/.test(err.message);
}
