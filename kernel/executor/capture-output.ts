// Cell console output: process.stdout/stderr writes (console.log included) become stream
// messages of the cell whose code wrote them, sent as they happen (the transport batches them).
import type { Executor } from "./executor.ts";

/** Installs the capture; returns a function that restores the original writers. */
export function captureOutput(executor: Executor): () => void {
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      executor.host.stream(executor.currentCell(), name, text);
      const done = typeof encoding === "function" ? encoding : cb;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof stream.write;
  }
  return () => {
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
  };
}
