// `import x from "pkg"` in a cell: resolved from the notebook's folder first, then from Halo's
// own dependencies (so `import * as arrow from "apache-arrow"` works in any notebook). Handles
// ESM-only packages (the `import` condition of `exports`) and CommonJS ones alike, which the
// kernels users complain about most do not.
import { builtinModules } from "node:module";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { HALO_ROOT } from "../paths.ts";

const CONDITIONS = ["node", "import", "module-sync", "default", "require"];

export function resolveSpecifier(spec: string, fromDir: string): string {
  if (spec.startsWith("node:") || builtinModules.includes(spec)) return spec;
  if (spec.startsWith("file:")) return spec;
  if (spec.startsWith(".") || isAbsolute(spec)) {
    const file = probeFile(resolvePath(fromDir, spec));
    if (!file) throw notFound(spec, [fromDir]);
    return pathToFileURL(file).href;
  }
  const dirs = [fromDir, HALO_ROOT];
  for (const dir of dirs) {
    const file = resolvePackage(spec, dir);
    if (file) return pathToFileURL(file).href;
  }
  throw notFound(spec, dirs);
}

function notFound(spec: string, dirs: string[]): Error {
  const err = new Error(
    `Cannot find module '${spec}' from ${dirs.join(" or ")}: install it in the notebook's folder (npm install ${spec.split("/")[0]!.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]})`,
  );
  (err as Error & { code: string }).code = "ERR_MODULE_NOT_FOUND";
  return err;
}

function resolvePackage(spec: string, fromDir: string): string | undefined {
  const parts = spec.split("/");
  const nameLength = spec.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameLength).join("/");
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join("/")}` : ".";
  for (let dir = resolvePath(fromDir); ; dir = dirname(dir)) {
    const pkgDir = join(dir, "node_modules", name);
    const pkgFile = join(pkgDir, "package.json");
    if (existsSync(pkgFile)) {
      const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { exports?: unknown; main?: string };
      if (pkg.exports !== undefined) {
        const target = resolveExports(pkg.exports, subpath);
        if (target) return join(pkgDir, target);
        return undefined;
      }
      if (subpath === ".") return probeFile(join(pkgDir, pkg.main ?? "index.js"));
      return probeFile(join(pkgDir, subpath));
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function resolveExports(exports: unknown, subpath: string): string | undefined {
  const isMap =
    exports !== null &&
    typeof exports === "object" &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((k) => k.startsWith("."));
  const map = (isMap ? exports : { ".": exports }) as Record<string, unknown>;
  if (subpath in map) return resolveTarget(map[subpath], "");
  for (const [key, target] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const head = key.slice(0, star);
    const tail = key.slice(star + 1);
    if (subpath.startsWith(head) && subpath.endsWith(tail) && subpath.length >= key.length - 1) {
      return resolveTarget(target, subpath.slice(head.length, subpath.length - tail.length));
    }
  }
  return undefined;
}

function resolveTarget(target: unknown, star: string): string | undefined {
  if (typeof target === "string") return target.replaceAll("*", star);
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = resolveTarget(t, star);
      if (r) return r;
    }
    return undefined;
  }
  if (target && typeof target === "object") {
    for (const [condition, value] of Object.entries(target)) {
      if (CONDITIONS.includes(condition)) {
        const r = resolveTarget(value, star);
        if (r) return r;
      }
    }
  }
  return undefined;
}

function probeFile(path: string): string | undefined {
  for (const candidate of [
    path,
    `${path}.ts`,
    `${path}.js`,
    `${path}.mjs`,
    `${path}.cjs`,
    join(path, "index.ts"),
    join(path, "index.js"),
  ]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next
    }
  }
  return undefined;
}
