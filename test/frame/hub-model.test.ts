// A model named by hub id end to end: a stand-in hub on 127.0.0.1 serves the shipped model's
// files, `.agent({ model: "org/name" })` downloads them into a huggingface_hub cache and answers
// exactly as the local folder does; registered hub models carry repo, commit and dtype in their
// LLM nodes' signatures; a registered q4 or fp16 variant downloads only its graph and runs in the
// model threads as that variant; errors name what to do.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { getModel, shippedModelDir, type Model } from "../../src/runtime/index.ts";
import { GRAPHS } from "../helpers/graph-fixtures.ts";
import { HubStandIn, readFolder } from "../helpers/hub-stand-in.ts";
import { shippedModelPresent } from "./fixtures/shipped-model.ts";

const present = shippedModelPresent();
const PROMPT =
  "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}";
const reviews = [
  "The kettle is great value. The price is excellent.",
  "The sound is terrible. I want a refund.",
  "The delivery was fine, nothing special.",
].map((review, id) => ({ id, review }));
const run = { reuse: false, calibrate: false, progress: false } as const;

let hub: HubStandIn;
let cache: string;
let commit = "";
const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.HF_HUB_CACHE };

test.before(async () => {
  hub = await new HubStandIn().start();
  cache = mkdtempSync(join(tmpdir(), "halo-hub-e2e-"));
  process.env.HF_ENDPOINT = hub.hubUrl;
  process.env.HF_HUB_CACHE = cache;
  if (present) commit = hub.commit("acme/halo-tiny", readFolder(shippedModelDir()));
});
test.after(async () => {
  await hub.close();
  rmSync(cache, { recursive: true, force: true });
  for (const [k, v] of [
    ["HF_ENDPOINT", saved.endpoint],
    ["HF_HUB_CACHE", saved.cache],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

test(".agent({ model: 'org/name' }) downloads the model and answers exactly like the folder", async () => {
  if (!present) return;
  const agent = (model: string) =>
    halo
      .lazy(reviews)
      .agent({ prompt: PROMPT, output: "label", maxTokens: 8, model })
      .collectRows(run);
  const fromHub = await agent("acme/halo-tiny");
  const fromFolder = await agent(shippedModelDir());
  assert.equal(fromHub.rows, fromFolder.rows);
  assert.ok(fromHub.rows.every((r) => typeof r.label === "string" && r.label !== ""));
  // Only the files a model folder needs crossed the wire (not eval.json or reference.json).
  const files = hub.requests("hub", (r) => r.method === "GET" && r.path.includes("/resolve/"));
  assert.not.ok(files.some((r) => /eval\.json|reference\.json/.test(r.path)));
  const snapshot = join(cache, "models--acme--halo-tiny", "snapshots", commit);
  assert.ok(
    readFolder(snapshot)
      .get("onnx/model.onnx")!
      .equals(readFolder(shippedModelDir()).get("onnx/model.onnx")!),
  );
  // Resolved once per process: a second collect asks the hub nothing.
  const before = hub.log.length;
  await agent("acme/halo-tiny");
  assert.is(hub.log.length, before);
});

test("registered hub models: dtype and revision, and signatures that carry the commit", async () => {
  if (!present) return;
  const files = readFolder(shippedModelDir());
  const pinned = commit;
  // The branch moves to a commit whose config names a default dtype.
  hub.commit("acme/halo-tiny", files, "next");
  halo.models.register("tiny-main", "acme/halo-tiny", { dtype: "fp32" });
  halo.models.register("tiny-pinned", "acme/halo-tiny", { revision: pinned });
  halo.models.register("tiny-next", "acme/halo-tiny", { revision: "next" });
  const frame = (model: string) =>
    halo.lazy(reviews.slice(0, 1)).agent({ prompt: PROMPT, output: "label", maxTokens: 4, model });
  const results = [];
  for (const name of ["tiny-main", "tiny-pinned", "tiny-next"])
    results.push(await frame(name).collectRows(run));
  assert.equal(results[0]!.rows, results[1]!.rows);
  assert.equal(results[1]!.rows, results[2]!.rows);
  // Equal weights, but another commit: another signature (no result of one stands in for the other).
  const { modelIdentity } = await import("../../src/frame/models.ts");
  assert.is(modelIdentity("tiny-main"), `hf:acme/halo-tiny@${pinned}:fp32`);
  assert.is(modelIdentity("tiny-pinned"), `hf:acme/halo-tiny@${pinned}:fp32`);
  assert.match(modelIdentity("tiny-next")!, /^hf:acme\/halo-tiny@[0-9a-f]{40}:fp32$/);
  assert.is.not(modelIdentity("tiny-next"), modelIdentity("tiny-pinned"));
  const signature = (name: string) =>
    frame(name)
      .plan({ optimized: false })
      .nodes.find((n) => n.kind === "LlmCall")!.signature;
  assert.is.not(signature("tiny-next"), signature("tiny-pinned"));
  for (const name of ["tiny-main", "tiny-pinned", "tiny-next"]) halo.models.unregister(name);
});

test("registered q4 and fp16 variants of a hub repo download their graph only and answer as the folder's", async () => {
  const fixture = join(GRAPHS, "qwen2");
  const graphsCommit = hub.commit("acme/qwen2-graphs", readFolder(fixture));
  const fetched = () =>
    hub
      .requests("hub", (r) => r.method === "GET" && r.path.includes("/resolve/"))
      .map((r) => r.path.split(`/resolve/${graphsCommit}/`)[1])
      .filter((p) => p?.startsWith("onnx/"));
  const answers = (model: string, workersPerModel = 1) =>
    halo
      .lazy(reviews)
      .agent({ prompt: PROMPT, output: "label", maxTokens: 6, model })
      .collectRows({ ...run, processor: { llm: { workersPerModel } } });
  const { loadModel, modelIdentity } = await import("../../src/frame/models.ts");

  halo.models.register("graphs-q4", "acme/qwen2-graphs", { dtype: "q4" });
  halo.models.register("local-q4", fixture, { dtype: "q4" });
  halo.models.register("local-fp32", fixture);
  const q4 = await answers("graphs-q4");
  assert.equal(fetched(), ["onnx/model_q4.onnx"]);
  assert.is(modelIdentity("graphs-q4"), `hf:acme/qwen2-graphs@${graphsCommit}:q4`);
  // the fixture's weights sit on the q4 grid: q4 answers exactly as its fp32 twin
  assert.equal(q4.rows, (await answers("local-q4")).rows);
  assert.equal(q4.rows, (await answers("local-fp32")).rows);
  const loaded = (name: string) => loadModel(name) as Promise<Model>;
  assert.is((await loaded("graphs-q4")).graph.dtype, "q4");
  // two dtypes of one folder are two models; the same graph asked two ways is one
  assert.is.not(await loaded("local-q4"), await loaded("local-fp32"));
  assert.is(await getModel(fixture, { dtype: "fp32" }), await getModel(fixture));

  halo.models.register("graphs-fp16", "acme/qwen2-graphs", { dtype: "fp16" });
  halo.models.register("local-fp16", fixture, { dtype: "fp16" });
  // two workers: each model thread loads the fp16 graph, float16 KV in 2 bytes a value
  const fp16 = await answers("graphs-fp16", 2);
  assert.equal(fetched(), ["onnx/model_q4.onnx", "onnx/model_fp16.onnx"]);
  assert.equal(fp16.rows, (await answers("local-fp16")).rows);
  const half = await loaded("graphs-fp16");
  assert.is(half.graph.dtype, "fp16");
  assert.is(half.session.shape.kvType, "float16");
  for (const name of ["graphs-q4", "local-q4", "local-fp32", "graphs-fp16", "local-fp16"])
    halo.models.unregister(name);
});

test("bad model sources fail with errors that say what to do", async () => {
  const missing = halo
    .lazy(reviews)
    .agent({ prompt: PROMPT, output: "l", model: "acme/no-such-model" });
  try {
    await missing.collectRows(run);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /acme\/no-such-model: no such model repository/);
    assert.match((error as Error).message, /a local folder of that name would have been used/);
  }
  if (present) {
    try {
      await halo.lazy(reviews).agent({ prompt: PROMPT, output: "l", model: "x" }).collectRows(run);
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, /neither a registered name/);
    }
    halo.models.register("tiny-q4", "acme/halo-tiny", { dtype: "q4" });
    try {
      await halo
        .lazy(reviews)
        .agent({ prompt: PROMPT, output: "l", model: "tiny-q4" })
        .collectRows(run);
      assert.unreachable();
    } catch (error) {
      assert.match(
        (error as Error).message,
        /acme\/halo-tiny@main has no q4 decoder .* it has fp32 \(onnx\/model\.onnx\)/,
      );
    }
    halo.models.unregister("tiny-q4");
  }
  assert.throws(
    () => halo.models.register("bad", "acme/halo-tiny", { dtype: "fp8" as never }),
    /dtype must be one of fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4/,
  );
  assert.throws(
    () => halo.models.register("bad", shippedModelDir(), { revision: "main" }),
    /is a local folder; revision applies to hub ids only/,
  );
});

test.run();
