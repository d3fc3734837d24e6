// The language service's process. Its first use loads typescript, the lib and @types/node
// declarations and src/'s types: 3.5-4.6 s of CPU measured on the main thread, which made the
// first completion that slow and kept every execute waiting meanwhile. Here it warms while the
// kernel is idle, and a busy or interrupted cell never waits for it. A child process, not a
// worker thread: V8 cannot stop a thread in the middle of compiling typescript.js, so a kernel
// shut down during the warm-up waited seconds for the compile to end (CI's fuzz test saw the
// client give up after 5 s); a process is simply killed.
import { setPriority } from "node:os";
import { createLanguageTools } from "./service.ts";
import type { LanguageRequest, LanguageResponse } from "./worker-types.ts";

const notebookDir = process.env.HALO_NOTEBOOK_DIR ?? process.cwd();
// The kernel gone (its IPC channel closed), nothing is left to answer.
process.on("disconnect", () => process.exit(0));
try {
  // A lower priority for this process: the warm-up then takes only idle CPU from the cells on a
  // shared 2-core machine.
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

const reply = (response: LanguageResponse) => process.send?.(response);

process.on("message", (r: LanguageRequest) => {
  answer(r).then(
    (value) => reply({ id: r.id, ok: true, value }),
    (err: unknown) =>
      reply({
        id: r.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
  );
});
