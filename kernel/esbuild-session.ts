// In Jupyter's "signal" interrupt mode the client sends SIGINT to the kernel's whole process
// group, which also killed esbuild's service process (the kernel's cell compiler, and tsx's):
// every later cell then failed with "The service is no longer running". esbuild runs the binary
// named by ESBUILD_BINARY_PATH, read when its module loads, so the kernelspec points that at a
// wrapper that starts esbuild in its own session, out of reach of the group's signals.
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { HALO_ROOT as ROOT, KERNEL_CACHE } from "./paths.ts";

function realEsbuildBinary(): string | undefined {
  try {
    const require = createRequire(join(ROOT, "package.json"));
    const pkg = `@esbuild/${process.platform}-${process.arch}/package.json`;
    const bin = join(dirname(require.resolve(pkg)), "bin", "esbuild");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `dir/esbuild-setsid` and returns its path; undefined where `setsid` or the esbuild
 *  binary is missing (then esbuild runs as usual). */
export function writeEsbuildWrapper(dir: string): string | undefined {
  const setsid = ["/usr/bin/setsid", "/bin/setsid"].find((p) => existsSync(p));
  const bin = realEsbuildBinary();
  if (!setsid || !bin) return undefined;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "esbuild-setsid");
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `#!/bin/sh\n# esbuild in its own session: see kernel/esbuild-session.ts in Halo\nexec ${setsid} ${JSON.stringify(bin)} "$@"\n`,
  );
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
  return path;
}

/** For processes we start ourselves (`halo run`, the kernel's own esbuild when the kernelspec
 *  did not set it): the wrapper in Halo's cache folder. */
export function esbuildSessionEnv(): Record<string, string> {
  if (process.env.ESBUILD_BINARY_PATH)
    return { ESBUILD_BINARY_PATH: process.env.ESBUILD_BINARY_PATH };
  try {
    const path = writeEsbuildWrapper(KERNEL_CACHE);
    return path ? { ESBUILD_BINARY_PATH: path } : {};
  } catch {
    return {};
  }
}
