// The model the calibration tests run on: the shipped model once the runtime has landed it
// (models/halo-tiny), else the random-weight qwen2 graph fixture (models/build/
// make-graph-fixtures.py), said plainly. Tests that need a folder of their own copy the fixture.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SHIPPED_MODEL_DIR } from "../../src/cost/calibrate-command.ts";

export const FIXTURE_DIR = fileURLToPath(
  new URL("../runtime/fixtures/graphs/qwen2", import.meta.url),
);

export function calibrationModelDir(): string {
  if (existsSync(`${SHIPPED_MODEL_DIR}/onnx/model.onnx`)) return SHIPPED_MODEL_DIR;
  console.log(`notice: ${SHIPPED_MODEL_DIR} not built yet: calibrating the test fixture instead`);
  return FIXTURE_DIR;
}
