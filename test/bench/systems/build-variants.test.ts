// The bench builds missing or stale model variants itself (issue 4: generated at bench time).
// A stand-in build script (real python, real files) plays make-variants.py, so the test checks
// the bench's side: which folders it asks for, that a fresh build is used as is, and the error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMissingVariants } from "../../../bench/systems/build-variants.ts";

function setup() {
  const root = mkdtempSync(join(tmpdir(), "halo-variants-"));
  const shipped = join(root, "halo-tiny");
  mkdirSync(shipped);
  writeFileSync(join(shipped, "tokenizer.json"), '{"v": 2}');
  const log = join(root, "calls.txt");
  // Writes models/<root>/halo-<name>/{config,tokenizer}.json for each name and logs the call.
  const script = join(root, "make.py");
  writeFileSync(
    script,
    [
      "import os, sys",
      `root = ${JSON.stringify(root)}`,
      "open(os.path.join(root, 'calls.txt'), 'a').write(' '.join(sys.argv[1:]) + '\\n')",
      "if 'fail' in sys.argv: sys.exit('no module named torch')",
      "for n in sys.argv[1:]:",
      "    d = os.path.join(root, 'halo-' + n); os.makedirs(d, exist_ok=True)",
      "    open(os.path.join(d, 'config.json'), 'w').write('{}')",
      "    open(os.path.join(d, 'tokenizer.json'), 'w').write(open(os.path.join(root, 'halo-tiny', 'tokenizer.json')).read())",
    ].join("\n"),
  );
  return { root, shipped, script, log };
}

test("builds only the missing or stale variants, then finds them current", () => {
  const { root, shipped, script, log } = setup();
  try {
    const a = join(root, "halo-5m");
    const b = join(root, "halo-20m");
    buildMissingVariants([a, b], shipped, script);
    assert.equal(readFileSync(log, "utf8"), "5m 20m\n");
    buildMissingVariants([a, b], shipped, script); // both current: no second call
    assert.equal(readFileSync(log, "utf8"), "5m 20m\n");
    writeFileSync(join(b, "tokenizer.json"), '{"v": 1}'); // built before a retrain
    buildMissingVariants([a, b], shipped, script);
    assert.equal(readFileSync(log, "utf8"), "5m 20m\n20m\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a failed build names the folder, the command and the script's error", () => {
  const { root, shipped, script } = setup();
  try {
    assert.throws(
      () => buildMissingVariants([join(root, "halo-fail")], shipped, script),
      (e: Error) =>
        /halo-fail/.test(e.message) &&
        /make\.py fail/.test(e.message) &&
        /no module named torch/.test(e.message) &&
        /--models tiny/.test(e.message),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
