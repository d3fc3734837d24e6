#!/usr/bin/env node
// Runs every test file in its own process (a crash in one file cannot hide the others' results),
// two at a time on this 2-core machine, and ends with the plain line CI reads:
// "N passed, N failed". uvu's own summary is parsed per file; pytest files (the Jupyter
// conformance suites) are run with Debian's python and their summary parsed the same way.
// Zero tests executed is a failure, as is a file that exits non-zero without reporting one.
//
//   npm test                      every file under test/
//   npm test -- runtime kernel    only files whose path contains one of these words
import { spawn } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const filters = process.argv.slice(2);
const jobs = Number(process.env.HALO_TEST_JOBS ?? 2);
const fileTimeoutMs = Number(process.env.HALO_TEST_TIMEOUT_S ?? 900) * 1000;
const python = process.env.HALO_PYTHON ?? "/usr/bin/python3";

function listTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "fixtures" && name !== "helpers" && name !== "__pycache__")
        out.push(...listTests(path));
    } else if (name.endsWith(".test.ts") || (name.startsWith("test_") && name.endsWith(".py"))) {
      out.push(path);
    }
  }
  return out;
}

function count(text, re) {
  const m = text.match(re);
  return m ? Number(m[1]) : 0;
}

function runFile(file) {
  const rel = relative(root, file);
  const isPy = file.endsWith(".py");
  const [cmd, args] = isPy
    ? [
        python,
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", rel],
      ]
    : [process.execPath, ["--import", "tsx", rel]];
  return new Promise((resolve) => {
    if (isPy && !existsSync(python)) {
      resolve({
        rel,
        passed: 0,
        failed: process.env.CI === "true" ? 1 : 0,
        skipped: 1,
        output: `no ${python}: skipped\n`,
        code: 0,
      });
      return;
    }
    const started = Date.now();
    const child = spawn(cmd, args, {
      cwd: root,
      // The disk result store stays off unless a test turns it on (with a folder of its own):
      // a second `npm test` must make the calls the first made, not read them back.
      env: {
        ...process.env,
        FORCE_COLOR: "0",
        NO_COLOR: "1",
        HALO_RESULT_CACHE: process.env.HALO_RESULT_CACHE ?? "off",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[test runner] ${rel} exceeded ${fileTimeoutMs / 1000}s; killed\n`;
      child.kill("SIGKILL");
    }, fileTimeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      let passed, failed, skipped;
      if (isPy) {
        const summary =
          output
            .split("\n")
            .filter((l) => /\d+ (passed|failed|error)/.test(l))
            .pop() ?? "";
        passed = count(summary, /(\d+) passed/);
        failed = count(summary, /(\d+) failed/) + count(summary, /(\d+) errors?/);
        skipped = count(summary, /(\d+) skipped/);
      } else {
        const total = count(output, /Total:\s+(\d+)/);
        passed = count(output, /Passed:\s+(\d+)/);
        skipped = count(output, /Skipped:\s+(\d+)/);
        failed = Math.max(0, total - passed - skipped);
      }
      // A file that died (or exited non-zero) without a failure in its summary counts as one.
      if ((code !== 0 || passed + failed + skipped === 0) && failed === 0) failed = 1;
      resolve({
        rel,
        passed,
        failed,
        skipped,
        output,
        code,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

const files = listTests(join(root, "test")).filter(
  (f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)),
);
const results = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    const r = await runFile(file);
    results.push(r);
    const status = r.failed > 0 ? "FAIL" : "ok";
    process.stdout.write(
      `\n=== ${status} ${r.rel} (${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped, ${r.seconds?.toFixed(1) ?? "0"}s)\n`,
    );
    if (r.failed > 0 || process.env.HALO_TEST_VERBOSE) process.stdout.write(r.output);
    else {
      // Notices (skips, measured figures) are worth seeing even when a file passes.
      const notes = r.output
        .split("\n")
        .filter((l) => /^(notice|measure|skip)[: ]/i.test(l.trim()));
      if (notes.length) process.stdout.write(notes.join("\n") + "\n");
    }
  }
}
await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));

const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
const skipped = results.reduce((s, r) => s + r.skipped, 0);
if (failed > 0) {
  process.stdout.write(
    `\nfailing files: ${results
      .filter((r) => r.failed > 0)
      .map((r) => r.rel)
      .join(", ")}\n`,
  );
}
if (passed + failed === 0) process.stdout.write("\nno test was executed: that is a failure\n");
process.stdout.write(
  `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`,
);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
