// Model folders as they come from the hub: which graph a folder with several variants loads (the
// dtype option, transformers.js_config's default, fp32, the single variant, genai_config.json),
// clear errors for a dtype a folder lacks, and tokenizers and configs in their newer shapes
// (chat_template.jinja, named templates, added ids past vocab_size, nested text_config).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel } from "../../src/runtime/index.ts";
import { GRAPHS } from "../helpers/graph-fixtures.ts";

const work = mkdtempSync(join(tmpdir(), "halo-folders-"));

function copy(family: string, name: string): string {
  const dir = join(work, name);
  cpSync(join(GRAPHS, family), dir, { recursive: true });
  return dir;
}

function editJson(path: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(json);
  writeFileSync(path, JSON.stringify(json));
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.match((error as Error).message, pattern);
    return;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

async function graphOf(dir: string, options = {}) {
  const model = await loadModel(dir, { selfTest: false, ...options });
  const graph = model.graph;
  await model.dispose();
  return graph;
}

test("a folder with several variants loads the one asked for, else the default transformers.js takes", async () => {
  const dir = copy("qwen2", "variants");
  assert.is((await graphOf(dir)).file, "onnx/model.onnx");
  assert.is((await graphOf(dir)).reason, "fp32 (the default)");
  assert.is((await graphOf(dir, { dtype: "q4" })).file, "onnx/model_q4.onnx");
  assert.is((await graphOf(dir, { onnxFile: "onnx/model_uint8.onnx" })).dtype, "uint8");
  editJson(join(dir, "config.json"), (c) => {
    c["transformers.js_config"] = { dtype: "q4f16" };
  });
  const q4f16 = await graphOf(dir);
  assert.is(q4f16.file, "onnx/model_q4f16.onnx");
  assert.match(q4f16.reason, /transformers\.js_config\.dtype q4f16/);
  editJson(join(dir, "config.json"), (c) => {
    c["transformers.js_config"] = { dtype: { model: "int8" } };
  });
  assert.is((await graphOf(dir)).file, "onnx/model_int8.onnx");
  // the configured default is not downloaded: fall back to fp32
  rmSync(join(dir, "onnx", "model_int8.onnx"));
  assert.is((await graphOf(dir)).file, "onnx/model.onnx");
});

test("a dtype the folder lacks, or several variants and no fp32, list what is there", async () => {
  const dir = copy("qwen2", "no-fp32");
  rmSync(join(dir, "onnx", "model.onnx"));
  await rejects(
    loadModel(dir),
    /no fp32 decoder \(the default: none was asked for, and it holds several graphs\) .*it has fp16 \(onnx\/model_fp16\.onnx\), q8 .*: ask for one of those with the dtype option/,
  );
  await rejects(
    loadModel(dir, { dtype: "fp32" }),
    /has no fp32 decoder \(looked for onnx\/model\.onnx, onnx\/decoder_model_merged\.onnx\); it has fp16 \(onnx\/model_fp16\.onnx\)/,
  );
  await rejects(loadModel(dir, { dtype: "fp8" as "fp32" }), /unknown dtype "fp8": use one of fp32/);
  await rejects(
    loadModel(dir, { onnxFile: "onnx/nope.onnx" }),
    /onnxFile onnx\/nope\.onnx not found/,
  );
  // one variant only: that one, whatever its dtype
  assert.is((await graphOf(join(GRAPHS, "fp16-io32"))).reason, "the only variant (fp16)");
});

test("a text file named model.onnx fails with the file named", async () => {
  const dir = copy("qwen2", "corrupt");
  writeFileSync(join(dir, "onnx", "model.onnx"), "version https://git-lfs.github.com/spec/v1\n");
  await rejects(loadModel(dir), /model\.onnx is not a readable ONNX model .*a Git LFS pointer/);
});

test("an operator this onnxruntime cannot run is named, with the dtypes to pick instead", async () => {
  const dir = copy("bnb4", "no-bnb4-kernel");
  const file = join(dir, "onnx", "model_bnb4.onnx");
  // the same graph with MatMulBnb4 in a domain no build registers
  const bytes = readFileSync(file).toString("latin1").replaceAll("com.microsoft", "com.microsofx");
  writeFileSync(file, Buffer.from(bytes, "latin1"));
  await rejects(
    loadModel(dir, { dtype: "bnb4" }),
    /could not load .*model_bnb4\.onnx \(dtype bnb4\): .*this onnxruntime build cannot run MatMulBnb4: pick another dtype \(the folder has fp32\)/,
  );
});

test("an onnxruntime-genai build without config.json: genai_config.json gives file, shape and eos", async () => {
  const model = await loadModel(join(GRAPHS, "genai-gqa"));
  assert.is(model.graph.reason, "genai_config.json");
  assert.equal(model.config.eosTokenIds, [511, 509]);
  assert.is(model.config.maxPositions, 512);
  assert.is(model.config.numKvHeads, 2);
  await model.dispose();
});

test("chat templates as they come: chat_template.jinja, a list of named templates", async () => {
  const dir = copy("qwen2", "templates");
  const messages = [{ role: "user" as const, content: "hi" }];
  editJson(join(dir, "tokenizer_config.json"), (c) => {
    c.chat_template = [
      { name: "tool_use", template: "TOOLS{{ messages[0].content }}" },
      { name: "default", template: "DEFAULT{{ messages[0].content }}" },
    ];
  });
  let model = await loadModel(dir, { selfTest: false });
  assert.is(model.tokenizer.renderChat(messages), "DEFAULThi");
  await model.dispose();
  writeFileSync(join(dir, "chat_template.jinja"), "JINJA{{ messages[0].content }}");
  model = await loadModel(dir, { selfTest: false });
  assert.is(model.tokenizer.renderChat(messages), "JINJAhi", "the .jinja file wins");
  await model.dispose();
});

test("added token ids past vocab_size warn; learned ids past it still mean another model's tokenizer", async () => {
  const dir = copy("qwen2", "beyond-vocab");
  editJson(join(dir, "tokenizer.json"), (t) => {
    (t.added_tokens as unknown[]).push({
      id: 512,
      content: "<image_soft_token>",
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
  });
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof write;
  try {
    const model = await loadModel(dir, { selfTest: false });
    await model.dispose();
  } finally {
    process.stderr.write = write;
  }
  assert.match(
    lines.join(""),
    /1 added token\(s\) at or past vocab_size 512 \(512 "<image_soft_token>"\)/,
  );
  editJson(join(dir, "tokenizer.json"), (t) => {
    (t.model as { vocab: Record<string, number> }).vocab["zzzz"] = 700;
  });
  await rejects(
    loadModel(dir, { selfTest: false }),
    /vocabulary mismatch: tokenizer\.json has token ids up to 700 but config\.json says vocab_size 512/,
  );
});

test("a multimodal config keeps the language model's numbers in text_config", async () => {
  const dir = copy("qwen2", "nested");
  editJson(join(dir, "config.json"), (c) => {
    const text: Record<string, unknown> = {};
    for (const key of [
      "hidden_size",
      "intermediate_size",
      "num_hidden_layers",
      "num_attention_heads",
      "num_key_value_heads",
      "head_dim",
      "vocab_size",
    ]) {
      text[key] = c[key];
      delete c[key];
    }
    c.model_type = "gemma3";
    c.text_config = { ...text, model_type: "gemma3_text" };
    c.vocab_size = 262208; // an outer number that must not win
    c.eos_token_id = [511, 509];
  });
  rmSync(join(dir, "generation_config.json"));
  const model = await loadModel(dir);
  assert.is(model.config.numLayers, 2);
  assert.is(model.config.vocabSize, 512);
  assert.equal(model.config.eosTokenIds, [511, 509]);
  assert.ok(model.selfTestResult?.ok);
  await model.dispose();
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
