// How a model thread starts: from an esbuild bundle of model-thread.ts cached in `.cache/threads/`
// (rebuilt when one of its sources is newer), else by registering tsx inside the thread. Worker
// threads inherit no loader (not even `node --import tsx`). Measured on the shipped model, 4
// interleaved pairs at load average 15-18: the thread's model was ready 1.2-2.3 s after start from
// the bundle, 2.2-3.8 s with tsx (model load itself 0.3-0.9 s). The kernel's transport worker is
// bundled for the same reason (kernel/transport/start-worker.ts).
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { WorkerOptions } from "node:worker_threads";

const SOURCE = new URL("./model-thread.ts", import.meta.url);
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const BUNDLE = join(ROOT, ".cache", "threads", "model-thread.mjs");
/** The bundle's inputs, to tell when it is stale. */
const INPUTS = `${BUNDLE}.inputs.json`;

/** What `new Worker(...)` is given: a bundle's URL, or code that registers tsx first. */
export interface ThreadEntry {
  script: string | URL;
  options: Pick<WorkerOptions, "eval">;
}

let entry: ThreadEntry | undefined;

/** The entry of every model thread of this process (checked, and built if need be, once). */
export function threadEntry(): ThreadEntry {
  entry ??= bundledEntry() ?? tsxEntry();
  return entry;
}

function bundledEntry(): ThreadEntry | undefined {
  try {
    if (!isFresh()) build();
    return { script: pathToFileURL(BUNDLE), options: {} };
  } catch {
    return undefined; // no esbuild, a read-only checkout: tsx in the thread still works
  }
}

function isFresh(): boolean {
  try {
    const built = statSync(BUNDLE).mtimeMs;
    const inputs = JSON.parse(readFileSync(INPUTS, "utf8")) as string[];
    return inputs.every((file) => statSync(file).mtimeMs <= built);
  } catch {
    return false; // not built yet, or an input is gone
  }
}

/** Synchronous (about 70-330 ms, once per source change) so engines start synchronously. */
function build(): void {
  // esbuild's CommonJS entry has buildSync; required lazily, only when a bundle is stale.
  const esbuild = createRequire(import.meta.url)("esbuild") as typeof import("esbuild");
  const result = esbuild.buildSync({
    entryPoints: [fileURLToPath(SOURCE)],
    absWorkingDir: ROOT, // metafile paths are relative to it
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    write: false,
    metafile: true,
  });
  mkdirSync(dirname(BUNDLE), { recursive: true });
  const inputs = Object.keys(result.metafile!.inputs).map((file) => join(ROOT, file));
  // Atomic renames: two processes building at once never see half a file. Inputs last, so a
  // bundle is never trusted with another bundle's input list.
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  writeFileSync(tmp, result.outputFiles![0]!.contents);
  renameSync(tmp, BUNDLE);
  writeFileSync(`${INPUTS}.${process.pid}.tmp`, JSON.stringify(inputs));
  renameSync(`${INPUTS}.${process.pid}.tmp`, INPUTS);
}

function tsxEntry(): ThreadEntry {
  const tsx = import.meta.resolve("tsx/esm/api");
  return {
    script: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(SOURCE.href)}); })`,
    options: { eval: true },
  };
}
