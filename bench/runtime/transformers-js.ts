// Where the benchmarks find transformers.js 4.x (`@huggingface/transformers`, 474 MB; it pins
// onnxruntime-node 1.30): not a project dependency, but a bench-only folder installed on demand
// (`halo bench runtime --realistic --install-transformers`), HALO_TRANSFORMERS_DIR, or the project
// if someone installed it there.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Where `--install-transformers` puts it (git-ignored). */
export const DEFAULT_TRANSFORMERS_DIR = join(ROOT, ".cache", "transformers-js");
export const TRANSFORMERS_VERSION = "4.3.1";

/** The folder holding node_modules/@huggingface/transformers, if any. */
export function transformersFolder(option?: string): string | undefined {
  for (const folder of [option, process.env.HALO_TRANSFORMERS_DIR, DEFAULT_TRANSFORMERS_DIR, ROOT])
    if (folder && existsSync(join(folder, "node_modules", "@huggingface", "transformers")))
      return folder;
  return undefined;
}

/** Installs transformers.js into `folder` with npm (the registry only). */
export function installTransformers(folder = DEFAULT_TRANSFORMERS_DIR): void {
  mkdirSync(folder, { recursive: true });
  if (!existsSync(join(folder, "package.json")))
    writeFileSync(
      join(folder, "package.json"),
      '{ "name": "halo-bench-transformers", "private": true }\n',
    );
  const run = spawnSync(
    "npm",
    [
      "install",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      `@huggingface/transformers@${TRANSFORMERS_VERSION}`,
    ],
    { cwd: folder, stdio: "inherit" },
  );
  if (run.status !== 0)
    throw new Error(`npm install @huggingface/transformers failed in ${folder}`);
}

/** The transformers.js module from `folder` (its Node build). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function importTransformers(folder: string): Promise<any> {
  const require = createRequire(join(folder, "package.json"));
  const main = require.resolve("@huggingface/transformers");
  return import(pathToFileURL(join(dirname(main), "transformers.node.mjs")).href);
}
