// Builds the benchmark's larger model variants when they are missing. Issue 4 asks for them to be
// generated at bench time rather than committed: seeded random weights of the shipped model's
// architecture (models/build/make-variants.py, Debian's python3-torch), so a fresh checkout runs
// `halo bench --models variants` without a separate step.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

/** Debian's interpreter has torch; the `python3` on PATH may not. */
export function python(): string {
  return existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/**
 * True when `dir` holds no model, or one built with another tokenizer than `shippedDir`'s (the
 * variants take the shipped model's tokenizer, so a retrained shipped model makes them stale).
 */
function needsBuild(dir: string, shippedDir: string): boolean {
  if (!existsSync(join(dir, "config.json"))) return true;
  const tokenizer = (d: string) => readFileSync(join(d, "tokenizer.json"), "utf8");
  try {
    return tokenizer(dir) !== tokenizer(shippedDir);
  } catch {
    return true;
  }
}

/**
 * Runs make-variants.py for each folder in `dirs` (models/variants/halo-<name>) that lacks a
 * model or has a stale one (see needsBuild). Throws naming the folder, the command and the script's last error line when the
 * build fails (most often: python3-torch is not installed).
 */
export function buildMissingVariants(
  dirs: readonly string[],
  shippedDir: string,
  script: string,
): void {
  const missing = dirs.filter((d) => needsBuild(d, shippedDir));
  if (missing.length === 0) return;
  const names = missing.map((d) => basename(d).replace(/^halo-/, ""));
  const command = `${python()} ${script} ${names.join(" ")}`;
  process.stderr.write(`bench: building ${missing.join(", ")} (seeded weights): ${command}\n`);
  const started = performance.now();
  const run = spawnSync(python(), [script, ...names], {
    encoding: "utf8",
    env: { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" },
  });
  const still = missing.filter((d) => needsBuild(d, shippedDir));
  if (run.status !== 0 || still.length > 0) {
    const why =
      run.error?.message ??
      (run.stderr || run.stdout || "").trim().split("\n").pop() ??
      `exit ${run.status}`;
    throw new Error(
      `bench: --models variants needs ${still.join(", ") || missing.join(", ")}, and building it failed ` +
        `(${command}: ${why}). Install Debian's python3-torch and python3-onnx, or use --models tiny`,
    );
  }
  process.stderr.write(
    `bench: built ${names.join(", ")} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
