#!/usr/bin/env node
// What the kernelspec runs: starts the kernel from a bundle of kernel/ (esbuild, cached in
// .cache/kernel/dist-<stamp>, rebuilt when a kernel source changes) so start-up loads neither
// tsx nor TypeScript files: `halo kernel` through tsx took about 0.6 s of CPU before any kernel
// code ran. tsx is registered later, only when a cell needs TypeScript (executor/src-bridge.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const kernelDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(kernelDir);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const dist = join(root, ".cache", "kernel", `dist-${Math.floor(newestMtime(kernelDir))}`);
if (!existsSync(join(dist, "main.js"))) {
  // Built in a child process: loading esbuild here would fix its binary path before the kernel
  // sets ESBUILD_BINARY_PATH (see esbuild-session.ts).
  const tmp = `${dist}.tmp-${process.pid}`;
  const script = `
    const { build } = await import("esbuild");
    await build({
      entryPoints: {
        main: ${JSON.stringify(join(kernelDir, "main.ts"))},
        "language-worker": ${JSON.stringify(join(kernelDir, "language", "worker.ts"))},
      },
      bundle: true, splitting: true, format: "esm", platform: "node", target: "node20",
      packages: "external", outdir: ${JSON.stringify(tmp)}, logLevel: "error",
    });`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) {
    process.stderr.write("halo kernel: building the kernel bundle failed\n");
    process.exit(1);
  }
  try {
    renameSync(tmp, dist);
  } catch {
    // another kernel built it at the same time: use theirs
    rmSync(tmp, { recursive: true, force: true });
  }
  // Older bundles are stale; a kernel still running from one has loaded what it needs, except
  // lazily loaded chunks, so keep the previous one.
  const cache = dirname(dist);
  const old = readdirSync(cache)
    .filter((n) => /^dist-\d+$/.test(n) && join(cache, n) !== dist)
    .sort((x, y) => Number(x.slice(5)) - Number(y.slice(5)));
  for (const name of old.slice(0, -1)) rmSync(join(cache, name), { recursive: true, force: true });
}
const { startKernel } = await import(pathToFileURL(join(dist, "main.js")).href);
process.exitCode = await startKernel(process.argv.slice(2), { tsxRegistered: false });
