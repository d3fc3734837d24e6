// Where Halo lives. Kernel modules run both from source (through tsx) and from the bundle in
// .cache/kernel/dist (kernel/launch.mjs), so paths are found from the package root, never
// relative to the running file.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "halo"
    )
      return dir;
    if (dirname(dir) === dir)
      throw new Error("cannot find Halo's package.json above the kernel's files");
  }
}

export const HALO_ROOT = findRoot();
export const KERNEL_DIR = join(HALO_ROOT, "kernel");
export const KERNEL_CACHE = join(HALO_ROOT, ".cache", "kernel");
