// Bad model folders fail with a message naming the file and what to do; providers that cannot
// start fall back to cpu with a notice, or fail when required.
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel, shippedModelDir } from "../../src/runtime/index.ts";

const work = mkdtempSync(join(tmpdir(), "halo-runtime-"));
const fixtures = fileURLToPath(new URL("./fixtures", import.meta.url));

function copyModel(name: string): string {
  const dir = join(work, name);
  cpSync(shippedModelDir(), dir, { recursive: true });
  return dir;
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const message = (error as Error).message;
    assert.match(message, pattern);
    return message;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

test("a folder that does not exist", async () => {
  await rejects(
    loadModel(join(work, "nope")),
    /model folder not found: .*nope.*config\.json, tokenizer\.json/,
  );
});

test("a missing tokenizer names tokenizer.json", async () => {
  const dir = copyModel("no-tokenizer");
  rmSync(join(dir, "tokenizer.json"));
  await rejects(loadModel(dir), /missing tokenizer\.json in .*no-tokenizer/);
});

test("a malformed config.json names the file and the problem", async () => {
  const dir = copyModel("bad-config");
  writeFileSync(join(dir, "config.json"), "{ not json");
  await rejects(loadModel(dir), /malformed .*config\.json: not valid JSON/);
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ model_type: "qwen2", hidden_size: 128 }),
  );
  await rejects(loadModel(dir), /config\.json: missing numeric field num_attention_heads/);
});

test("a missing onnx/model.onnx", async () => {
  const dir = copyModel("no-onnx");
  rmSync(join(dir, "onnx"), { recursive: true });
  await rejects(loadModel(dir), /missing onnx\/model\.onnx/);
});

test("a text or truncated model.onnx names the file and says to download it again", async () => {
  const dir = copyModel("bad-onnx");
  const onnx = join(dir, "onnx", "model.onnx");
  const bytes = readFileSync(onnx);
  writeFileSync(onnx, "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n");
  await rejects(
    loadModel(dir),
    /bad-onnx\/onnx\/model\.onnx is not a readable ONNX model .*a Git LFS pointer .*Download or export the model again/,
  );
  writeFileSync(onnx, "<html><body>rate limited</body></html>");
  await rejects(
    loadModel(dir),
    /model\.onnx is not a readable ONNX model .*a text file of 38 bytes/,
  );
  writeFileSync(onnx, bytes.subarray(0, Math.floor(bytes.length / 3)));
  await rejects(
    loadModel(dir),
    /model\.onnx is not a readable ONNX model .*do not parse: most likely a download cut short\. Download/,
  );
});

test("a model without KV inputs says to export it with its cache", async () => {
  const dir = copyModel("no-kv");
  copyFileSync(join(fixtures, "no-kv", "onnx", "model.onnx"), join(dir, "onnx", "model.onnx"));
  await rejects(loadModel(dir), /has no past_key_values\.\* inputs: .*text-generation-with-past/);
});

test("a vocabulary mismatch between config, tokenizer and graph", async () => {
  const dir = copyModel("vocab");
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, vocab_size: 300 }));
  await rejects(
    loadModel(dir),
    /vocabulary mismatch: .* 512 logits per token but config\.json says vocab_size 300/,
  );
});

test("a layer count that disagrees with the graph", async () => {
  const dir = copyModel("layers");
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, num_hidden_layers: 6 }));
  await rejects(loadModel(dir), /lacks past_key_values\.4\.key .* num_hidden_layers=6/);
});

test("an unavailable provider falls back to cpu with a notice, or fails when required", async () => {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (
    lines.push(String(chunk)),
    true
  )) as typeof process.stderr.write;
  let provider: string;
  try {
    const model = await loadModel(shippedModelDir(), { provider: "cuda", selfTest: false });
    provider = model.provider;
    await model.dispose();
  } finally {
    process.stderr.write = write;
  }
  if (provider === "cuda") {
    console.log("notice: a CUDA provider is installed here; fallback not exercised");
  } else {
    assert.is(provider, "cpu");
    assert.match(lines.join(""), /execution provider "cuda" is not available .*; using cpu/);
    await rejects(
      loadModel(shippedModelDir(), { provider: "cuda", requireProvider: true }),
      /execution provider "cuda" is required but could not start/,
    );
  }
  await rejects(
    loadModel(shippedModelDir(), { provider: "tpu" as "cpu" }),
    /unknown execution provider "tpu": use one of cpu, cuda, webgpu/,
  );
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
