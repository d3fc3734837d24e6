"""Writes test/runtime/fixtures/no-kv/onnx/model.onnx: a valid decoder-shaped graph (input_ids,
attention_mask, position_ids -> logits) without past_key_values, so the runtime's "export it with
its KV cache" error is tested on a real ONNX file. Run once; the output (a few KB) is committed.

    /usr/bin/python3 models/build/make-test-fixtures.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOCAB = 512

rng = np.random.RandomState(0)
table = numpy_helper.from_array((rng.randn(VOCAB, 8) * 0.1).astype(np.float32), "table")
head = numpy_helper.from_array((rng.randn(8, VOCAB) * 0.1).astype(np.float32), "head")
graph = helper.make_graph(
    [helper.make_node("Gather", ["table", "input_ids"], ["hidden"], axis=0),
     helper.make_node("MatMul", ["hidden", "head"], ["logits"])],
    "no_kv_decoder",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
     helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
     helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", VOCAB])],
    [table, head],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
model.ir_version = 8
onnx.checker.check_model(model)
out = os.path.join(ROOT, "test", "runtime", "fixtures", "no-kv", "onnx", "model.onnx")
os.makedirs(os.path.dirname(out), exist_ok=True)
onnx.save(model, out)
print(out, os.path.getsize(out))
