// `halo serve` as a real process: it prints where it listens, serves a workflow given with
// --workflow, and on SIGTERM stops taking requests but answers the query already in flight
// before exiting 0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { halo } from "../../src/index.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import { SENTIMENT_CHOICES, SENTIMENT_PROMPT, SUMMARY_PROMPT } from "../helpers/trained-prompts.ts";
import { startServe } from "./helpers/serve-process.ts";

const YAML = `
name: sentiment
nodes:
  - id: label
    type: llm
    prompt: ${JSON.stringify(SENTIMENT_PROMPT)}
    choices: [positive, negative, neutral]
    output: sentiment
`;

test("serves a --workflow file; SIGTERM answers the query in flight, then exits 0", async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-serve-"));
  const file = join(dir, "sentiment.yaml");
  writeFileSync(file, YAML);
  // The admin token from the environment, as a deployment would pass it.
  const { child, url, log } = await startServe(["--workflow", file], { HALO_ADMIN_TOKEN: "adm" });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  assert.is((await fetch(`${url}/v1/workflows`)).status, 401);
  const listed = (await (
    await fetch(`${url}/v1/workflows`, { headers: { Authorization: "Bearer adm" } })
  ).json()) as {
    workflows: { name: string }[];
  };
  assert.equal(
    listed.workflows.map((w) => w.name),
    ["sentiment"],
  );
  // The first query loads the model (a second or more): SIGTERM lands while it runs.
  const answer = fetch(`${url}/v1/workflows/sentiment/queries`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Connection: "close" },
    body: JSON.stringify({ query: { review: "Terrible shoes, they broke after a week." } }),
  });
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGTERM");
  const res = await answer;
  assert.is(res.status, 200);
  const body = (await res.json()) as { results: { outcome: string; row: { sentiment: string } }[] };
  assert.is(body.results[0]!.outcome, "ok", log.join(""));
  assert.is(body.results[0]!.row.sentiment, "negative");
  assert.is(await exited, 0, log.join(""));
  assert.match(log.join(""), /SIGTERM: finishing queries in flight/);
  // Gone: nothing listens any more.
  await fetch(`${url}/healthz`).then(
    () => assert.unreachable("still listening after exit"),
    (err: Error) => assert.ok(err),
  );
});

test("halo.openai against a real `halo serve` process: the local runtime's answers", async () => {
  const { child, url, log } = await startServe([]);
  try {
    halo.models.register("served", halo.openai({ baseUrls: [url], tokenizer: shippedModelDir() }));
    const rows = [
      "Great kettle, works perfectly. I love it.",
      "Terrible shoes, they broke after a week.",
      "The blender is okay. It does the job.",
    ].map((review) => ({ review }));
    const agents = (model?: string) =>
      halo
        .lazy(rows)
        .agent({
          prompt: SENTIMENT_PROMPT,
          choices: SENTIMENT_CHOICES,
          output: "sentiment",
          ...(model && { model }),
        })
        .agent({
          prompt: SUMMARY_PROMPT,
          maxTokens: 12,
          output: "summary",
          ...(model && { model }),
        });
    const remote = await agents("served").collectRows({ reuse: false, calibrate: false });
    const local = await agents().collectRows({ reuse: false, calibrate: false });
    assert.equal(remote.rows, local.rows);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /halo_completions_total 6\b/, log.join(""));
  } finally {
    halo.models.unregister("served");
    child.kill("SIGTERM");
  }
});

test("bad options exit 2 or 1 with a message, not a stack trace", async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, ["bin/halo.js", "serve", ...args], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      child.once("exit", (code) => resolve({ code, err }));
    });
  const unknown = await run(["--nope"]);
  assert.is(unknown.code, 2);
  assert.match(unknown.err, /Unknown option '--nope'/);
  const port = await run(["--port", "eighty"]);
  assert.is(port.code, 1);
  assert.match(port.err, /--port must be a whole number/);
  const open = await run(["--host", "0.0.0.0", "--port", "0"]);
  assert.is(open.code, 1);
  assert.match(open.err, /set a token/);
  const missing = await run(["--port", "0", "--workflow", "/nonexistent/w.yaml"]);
  assert.is(missing.code, 1);
  assert.match(missing.err, /no such file/);
  const path = await run(["--port", "0", "--allow-path", "/nonexistent/data"]);
  assert.is(path.code, 1);
  assert.match(path.err, /--allow-path \/nonexistent\/data: no such file or folder/);
  const role = await run(["--port", "0", "--postgres-role", "main=reader"]);
  assert.is(role.code, 1);
  assert.match(role.err, /--postgres-role main: no --postgres main=URL/);
  const pair = await run(["--port", "0", "--postgres", "postgres://x"]);
  assert.is(pair.code, 1);
  assert.match(pair.err, /--postgres expects NAME=VALUE/);
  const same = await run(["--port", "0", "--token", "t", "--admin-token", "t"]);
  assert.is(same.code, 1);
  assert.match(same.err, /admin token must differ/);
});

test.run();
