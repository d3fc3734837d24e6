// The language service's thread. Its first use loads typescript, the lib and @types/node
// declarations and src/'s types: 3.5-4.6 s of CPU measured on the main thread, which made the
// first completion that slow and kept every execute waiting meanwhile. Here it warms while the
// kernel is idle, and a busy or interrupted cell never waits for it.
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { createLanguageTools } from "./service.ts";
import type { LanguageRequest, LanguageResponse } from "./worker-types.ts";

const { notebookDir } = workerData as { notebookDir: string };
try {
  // On Linux a niceness set with pid 0 applies to this thread alone: the warm-up then takes
  // only idle CPU from the cells' thread on a shared 2-core machine.
  setPriority(0, 5);
} catch {
  // not permitted: run at normal priority
}
const tools = createLanguageTools(notebookDir, { liveValues: false });

async function answer(r: LanguageRequest): Promise<unknown> {
  const t = await tools;
  switch (r.op) {
    case "warm":
      // What a first Tab in a Halo notebook touches: globals, lib types, halo and danfo's types.
      await t.complete([], "Math.ma", 7);
      await t.complete([], "halo.la", 7);
      await t.complete([], "new dfd.DataFrame({ a: [1] }).ag", 32);
      return undefined;
    case "complete":
      return t.complete(r.earlier, r.code, r.cursor);
    case "inspect":
      return t.inspect(r.earlier, r.code, r.cursor, r.detailLevel);
  }
}

parentPort!.on("message", (r: LanguageRequest) => {
  answer(r).then(
    (value) => parentPort!.postMessage({ id: r.id, ok: true, value } satisfies LanguageResponse),
    (err: unknown) =>
      parentPort!.postMessage({
        id: r.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies LanguageResponse),
  );
});
