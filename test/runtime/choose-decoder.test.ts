import { test } from "uvu";
import * as assert from "uvu/assert";
import { chooseDecoder, DtypeMissingError } from "../../src/runtime/choose-decoder.ts";
import { readTransformersJsConfig } from "../../src/runtime/transformers-js-config.ts";

const paths = [
  "config.json",
  "onnx/model.onnx",
  "onnx/model_q4f16.onnx",
  "onnx/model_q4f16.onnx_data",
];

test("the asked dtype, else transformers.js_config's default, else fp32", () => {
  assert.equal(chooseDecoder("r", paths, "q4f16", {}), {
    dtype: "q4f16",
    onnxFile: "onnx/model_q4f16.onnx",
    files: ["onnx/model_q4f16.onnx", "onnx/model_q4f16.onnx_data"],
    reason: "dtype q4f16",
  });
  assert.is(chooseDecoder("r", paths, undefined, {}).dtype, "fp32");
  const config = {
    "transformers.js_config": { dtype: { model: "q4f16" }, kv_cache_dtype: { q4f16: "float16" } },
  };
  assert.is(chooseDecoder("r", paths, undefined, config).dtype, "q4f16");
  assert.equal(readTransformersJsConfig(config).kvCacheDtype, { q4f16: "float16" });
  assert.is(
    readTransformersJsConfig({ "transformers.js_config": { dtype: "nonsense" } }).dtype,
    undefined,
  );
  assert.is(
    chooseDecoder("r", paths, undefined, { "transformers.js_config": { dtype: "nonsense" } }).dtype,
    "fp32",
  );
});

test("a dtype the model lacks is an error listing the dtypes it has", () => {
  try {
    chooseDecoder("acme/m", paths, "int8", {});
    assert.unreachable();
  } catch (error) {
    assert.instance(error, DtypeMissingError);
    assert.equal((error as DtypeMissingError).available, ["fp32", "q4f16"]);
    assert.match(
      (error as Error).message,
      /acme\/m has no int8 decoder \(looked for onnx\/model_int8\.onnx/,
    );
  }
  // one variant and no fp32: that one, as a local folder of one variant loads
  assert.equal(chooseDecoder("acme/m", ["config.json", "onnx/model_q4.onnx"], undefined, {}), {
    dtype: "q4",
    onnxFile: "onnx/model_q4.onnx",
    files: ["onnx/model_q4.onnx"],
    reason: "the only variant (q4)",
  });
  try {
    chooseDecoder(
      "acme/m",
      ["config.json", "onnx/model_q4.onnx", "onnx/model_fp16.onnx"],
      undefined,
      {},
    );
    assert.unreachable();
  } catch (error) {
    assert.match(
      (error as Error).message,
      /no fp32 decoder \(the default: none was asked for, and it holds several graphs\)/,
    );
    assert.match(
      (error as Error).message,
      /it has fp16 \(onnx\/model_fp16\.onnx\), q4 \(onnx\/model_q4\.onnx\)/,
    );
  }
  try {
    chooseDecoder("acme/m", paths, "fp8" as "fp32", {});
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /unknown dtype "fp8": use one of fp32/);
  }
});

test("an onnxruntime-genai build loads the graph its genai_config.json names", () => {
  const genai = { model: { decoder: { filename: "model.onnx" } } };
  const files = ["config.json", "genai_config.json", "model.onnx", "model.onnx.data"];
  assert.equal(chooseDecoder("g", files, undefined, {}, genai), {
    onnxFile: "model.onnx",
    files: ["model.onnx", "model.onnx.data"],
    reason: "genai_config.json",
  });
  try {
    chooseDecoder("g", files, "q4", {}, genai);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /onnxruntime-genai build .* leave the dtype out/);
  }
});

test.run();
