// `halo serve --model org/name` and a workflow whose YAML names a hub model: a real `halo serve`
// process against a stand-in hub on 127.0.0.1 serving the shipped model's files. The model is
// downloaded before the server listens, and it answers exactly as the local folder does.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import { createCompletionsService } from "../../src/serve/completions.ts";
import { HubStandIn, readFolder } from "../helpers/hub-stand-in.ts";
import { SAMPLE_REVIEWS, SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";
import { shippedModelPresent } from "../frame/fixtures/shipped-model.ts";
import { startServe } from "./helpers/serve-process.ts";

const present = shippedModelPresent();
let hub: HubStandIn;
let root: string;

/** The server downloads from the stand-in into this test's own cache. */
const hubEnv = () => ({ HF_ENDPOINT: hub.hubUrl, HF_HUB_CACHE: join(root, "hub") });

test.before(async () => {
  hub = await new HubStandIn().start();
  root = mkdtempSync(join(tmpdir(), "halo-serve-hub-"));
  if (present) hub.commit("acme/halo-tiny", readFolder(shippedModelDir()));
});
test.after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

test("--model org/name and a YAML model: org/name answer like the local folder", async () => {
  if (!present) return;
  const yaml = join(root, "sentiment.yaml");
  writeFileSync(
    yaml,
    [
      "name: sentiment",
      "nodes:",
      "  - id: label",
      "    type: llm",
      "    model: acme/halo-tiny",
      `    prompt: ${JSON.stringify(SENTIMENT_PROMPT)}`,
      `    choices: ${JSON.stringify(SENTIMENT_CHOICES)}`,
      "    output: sentiment",
      "",
    ].join("\n"),
  );
  const { child, url, log } = await startServe(
    ["--model", "acme/halo-tiny", "--workflow", yaml],
    hubEnv(),
  );
  try {
    // Downloaded before listening: the hub saw the files before the first request.
    assert.ok(hub.requests("hub", (r) => r.path.endsWith("/onnx/model.onnx")).length > 0);
    const body = { prompt: "The delivery was", max_tokens: 8, temperature: 0 };
    const res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.is(res.status, 200, log.join(""));
    const remote = (await res.json()) as { choices: { text: string }[] };
    const local = createCompletionsService({ model: shippedModelDir() });
    const expected = (await local.handle(body, new AbortController().signal)) as typeof remote;
    await local.close();
    assert.is(remote.choices[0]!.text, expected.choices[0]!.text);

    const review = SAMPLE_REVIEWS[0]!;
    const q = await fetch(`${url}/v1/workflows/sentiment/queries`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: { review } }),
    });
    assert.is(q.status, 200, log.join(""));
    const answer = (await q.json()) as { results: { row?: { sentiment: string } }[] };
    const { rows } = await halo
      .lazy([{ review }])
      .agent({ prompt: SENTIMENT_PROMPT, choices: SENTIMENT_CHOICES, output: "sentiment" })
      .collectRows({ calibrate: false, progress: false });
    assert.is(answer.results[0]!.row?.sentiment, rows[0]!.sentiment, JSON.stringify(answer));
  } finally {
    child.kill("SIGTERM");
  }
});

test("a hub id that does not exist stops halo serve with the reason", async () => {
  const r = await startServe(["--model", "acme/missing"], hubEnv()).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(r!.message, /halo serve exited 1/);
  assert.match(r!.message, /acme\/missing: no such model repository/);
});

test.run();
