// The realistic sizes' seam: one folder per (shape, dtype), built by the real-models script when
// missing. A stand-in script (real python, real files: the shipped model's graph written as the
// int8 file) plays make-graph-fixtures.py, so the test checks the bench's side: the command it
// runs, the folder it hands out (loaded by the real runtime), and its errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configureModels } from "../../../bench/systems/models.ts";
import { realisticModelDir } from "../../../bench/systems/realistic-models.ts";
import { loadModel } from "../../../src/runtime/load-model.ts";

const TINY = fileURLToPath(new URL("../../../models/halo-tiny", import.meta.url));

function setup() {
  const root = mkdtempSync(join(tmpdir(), "halo-realistic-"));
  const script = join(root, "make.py");
  // Logs its arguments; writes models/realistic/<shape>/ from halo-tiny, the graph under the
  // dtype's file name and an external-data file beside it.
  writeFileSync(
    script,
    [
      "import os, shutil, sys",
      `root, tiny = ${JSON.stringify(root)}, ${JSON.stringify(TINY)}`,
      "open(os.path.join(root, 'calls.txt'), 'a').write(' '.join(sys.argv[1:]) + '\\n')",
      "if 'fail' in sys.argv[2]: sys.exit('unknown realistic model')",
      "shape, dtype = sys.argv[2], sys.argv[4]",
      "name = {'fp32': 'model', 'int8': 'model_int8', 'q4': 'model_q4'}[dtype] + '.onnx'",
      "out = os.path.join(root, 'models', 'realistic', shape)",
      "os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)",
      "for f in ('config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'):",
      "    shutil.copy(os.path.join(tiny, f), os.path.join(out, f))",
      "shutil.copy(os.path.join(tiny, 'onnx', 'model.onnx'), os.path.join(out, 'onnx', name))",
      "open(os.path.join(out, 'onnx', name + '_data'), 'w').write('weights')",
    ].join("\n"),
  );
  const calls = () => readFileSync(join(root, "calls.txt"), "utf8").trim().split("\n");
  return { root, script, calls };
}

test("builds a missing shape in one dtype, then hands out its own folder, which loads", async () => {
  const { root, script, calls } = setup();
  try {
    const dir = realisticModelDir("smollm2-135m", "int8", { root, script });
    assert.is(dir, join(root, "models", "realistic", "bench", "smollm2-135m-int8"));
    assert.equal(calls(), ["realistic smollm2-135m --dtypes int8"]);
    // The dtype's graph as onnx/model.onnx, its external data under the name the graph uses.
    const built = join(root, "models", "realistic", "smollm2-135m");
    assert.is(
      realpathSync(join(dir, "onnx", "model.onnx")),
      join(built, "onnx", "model_int8.onnx"),
    );
    assert.is(readFileSync(join(dir, "onnx", "model_int8.onnx_data"), "utf8"), "weights");
    assert.is(realpathSync(join(dir, "config.json")), join(built, "config.json"));
    // The real runtime loads the folder and generates from it.
    const model = await loadModel(dir);
    const out = await model.generate([
      {
        promptTokens: model.encodeChat([{ role: "user", content: "Hello" }]),
        sampling: { maxTokens: 3 },
      },
    ]);
    assert.ok(out[0]!.tokens.length >= 1);
    // Present now: no second build; another dtype is built on its own.
    assert.is(realisticModelDir("smollm2-135m", "int8", { root, script }), dir);
    assert.is(calls().length, 1);
    realisticModelDir("smollm2-135m", "q4", { root, script });
    assert.equal(calls().slice(1), ["realistic smollm2-135m --dtypes q4"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("no script: says what to merge and what to run to build it", () => {
  const root = mkdtempSync(join(tmpdir(), "halo-realistic-"));
  try {
    assert.throws(
      () => realisticModelDir("qwen2.5-0.5b", "q4", { root }),
      (e: Error) =>
        e.message.includes("no models/build/make-graph-fixtures.py to build it") &&
        e.message.includes(
          "then run /usr/bin/python3 models/build/make-graph-fixtures.py realistic qwen2.5-0.5b --dtypes q4 to build it",
        ),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a failing build names the command and the script's last line", () => {
  const { root, script } = setup();
  try {
    assert.throws(
      () => realisticModelDir("fail" as "smollm2-135m", "int8", { root, script }),
      /building fail in int8 failed \(.*make\.py realistic fail --dtypes int8: unknown realistic model\)/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("--dtype and --model-dir go only with the sets they apply to", () => {
  assert.throws(
    () => configureModels("tiny", undefined, "int8"),
    /--dtype applies to --models realistic or large, not tiny/,
  );
  assert.throws(
    () => configureModels("realistic", "/tmp/x"),
    /--model-dir applies to --models tiny or variants, not realistic/,
  );
  assert.throws(
    () => configureModels("large", undefined, "fp16" as "fp32"),
    /--dtype must be one of fp32, int8, q4, got 'fp16'/,
  );
});

test.run();
