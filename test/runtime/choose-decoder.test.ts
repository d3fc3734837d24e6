import { test } from "uvu";
import * as assert from "uvu/assert";
import { chooseDecoder, DtypeMissingError } from "../../src/runtime/choose-decoder.ts";
import {
  defaultDtype,
  readTransformersJsConfig,
} from "../../src/runtime/transformers-js-config.ts";

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
  });
  assert.is(chooseDecoder("r", paths, undefined, {}).dtype, "fp32");
  const config = {
    "transformers.js_config": { dtype: { model: "q4f16" }, kv_cache_dtype: { q4f16: "float16" } },
  };
  assert.is(chooseDecoder("r", paths, undefined, config).dtype, "q4f16");
  assert.equal(readTransformersJsConfig(config).kvCacheDtype, { q4f16: "float16" });
  assert.is(defaultDtype({ "transformers.js_config": { dtype: "nonsense" } }), "fp32");
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
  try {
    chooseDecoder("acme/m", ["config.json", "onnx/model_q4.onnx"], undefined, {});
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /no fp32 decoder \(the default: none was asked for\)/);
    assert.match((error as Error).message, /it has q4 \(onnx\/model_q4\.onnx\)/);
  }
});

test("an onnxruntime-genai build loads the graph its genai_config.json names", () => {
  const genai = { model: { decoder: { filename: "model.onnx" } } };
  const files = ["config.json", "genai_config.json", "model.onnx", "model.onnx.data"];
  assert.equal(chooseDecoder("g", files, undefined, {}, genai), {
    onnxFile: "model.onnx",
    files: ["model.onnx", "model.onnx.data"],
  });
  try {
    chooseDecoder("g", files, "q4", {}, genai);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /onnxruntime-genai build .* leave the dtype out/);
  }
});

test.run();
