// `halo bench --model-dir` takes a folder or a hub id: a hub id is registered as it is (fetched
// into the Hugging Face cache when the bench first loads it); a missing folder still fails with
// the way out.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { configureModels, modelDirs } from "../../../bench/systems/models.ts";
import { models } from "../../../src/frame/models.ts";

test("--model-dir org/name registers the hub id for every size", () => {
  configureModels("tiny", "acme/halo-tiny");
  assert.equal(modelDirs(), {
    small: "acme/halo-tiny",
    medium: "acme/halo-tiny",
    large: "acme/halo-tiny",
  });
  assert.ok(models.list().includes("bench-small"));
});

test("a folder that does not exist is still an error naming the way out", () => {
  assert.throws(
    () => configureModels("tiny", "/nonexistent/model"),
    /--model-dir DIR \(or a hub id org\/name\)/,
  );
});

test.run();
