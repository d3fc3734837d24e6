// Tests that need a system package (Jupyter's test tools, chromium, a PostgreSQL server) call
// `needSystem`: when the tool is absent they print a notice and skip, so `npm test` passes for a
// user without it; under CI=true a missing tool is a failure, never a skip (.ci/run installs all).
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

export const PYTHON = process.env.HALO_PYTHON ?? "/usr/bin/python3";

/** True when `check` finds the tool. Otherwise prints a notice, or throws under CI. */
export function needSystem(what: string, check: () => boolean, install: string): boolean {
  let ok = false;
  try {
    ok = check();
  } catch {
    ok = false;
  }
  if (ok) return true;
  const message = `${what} is not installed (${install})`;
  if (process.env.CI === "true") throw new Error(`${message}: required under CI=true`);
  console.log(`notice: skipping: ${message}`);
  return false;
}

export function hasPythonModule(module: string): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;
}

export function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}
