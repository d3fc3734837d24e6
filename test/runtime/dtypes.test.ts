import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DTYPES,
  dtypesIn,
  externalDataFiles,
  isDtype,
  onnxCandidates,
} from "../../src/runtime/dtypes.ts";

test("each dtype maps to transformers.js file names, newest convention first", () => {
  assert.equal(onnxCandidates("fp32"), ["onnx/model.onnx", "onnx/decoder_model_merged.onnx"]);
  assert.equal(onnxCandidates("q8")[0], "onnx/model_quantized.onnx");
  assert.equal(onnxCandidates("q4f16")[1], "onnx/decoder_model_merged_q4f16.onnx");
  assert.is(new Set(DTYPES.map((d) => onnxCandidates(d)[0])).size, DTYPES.length);
  assert.ok(isDtype("bnb4"));
  assert.not.ok(isDtype("fp8"));
});

test("dtypesIn lists what a repository ships, preferring model*.onnx over merged decoders", () => {
  const found = dtypesIn([
    "config.json",
    "onnx/model.onnx",
    "onnx/decoder_model_merged.onnx",
    "onnx/decoder_model_merged_fp16.onnx",
    "onnx/model_q4f16.onnx",
  ]);
  assert.equal(
    [...found],
    [
      ["fp32", "onnx/model.onnx"],
      ["fp16", "onnx/decoder_model_merged_fp16.onnx"],
      ["q4f16", "onnx/model_q4f16.onnx"],
    ],
  );
});

test("externalDataFiles takes the graph's own data chunks only", () => {
  const paths = [
    "onnx/model.onnx",
    "onnx/model.onnx_data_1",
    "onnx/model.onnx_data",
    "onnx/model_q4.onnx_data",
    "onnx/model.onnx_datax",
  ];
  assert.equal(externalDataFiles("onnx/model.onnx", paths), [
    "onnx/model.onnx_data",
    "onnx/model.onnx_data_1",
  ]);
  assert.equal(externalDataFiles("onnx/model_q4.onnx", paths), ["onnx/model_q4.onnx_data"]);
  // onnxruntime-genai builds name the data file with a dot.
  assert.equal(
    externalDataFiles("model.onnx", ["model.onnx", "model.onnx.data", "model.onnx.datum"]),
    ["model.onnx.data"],
  );
});

test.run();
