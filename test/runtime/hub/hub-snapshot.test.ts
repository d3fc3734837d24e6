// The hub client against a stand-in hub and CDN on 127.0.0.1: the cache layout on disk, which
// files a dtype needs, revision pinning, offline mode, auth, 404s, resume after a cut, and that
// no partial or damaged file is ever used.
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DtypeMissingError } from "../../../src/runtime/choose-decoder.ts";
import {
  cachedSnapshot,
  HubError,
  resolveHubModel,
  type DownloadProgress,
  type HubSettings,
} from "../../../src/runtime/hub/index.ts";
import { gitSha1, HubStandIn, sha256 } from "../../helpers/hub-stand-in.ts";

const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

function repoFiles(extra: Record<string, Buffer> = {}): Map<string, Buffer> {
  return new Map(
    Object.entries({
      "config.json": json({ model_type: "llama", num_hidden_layers: 1 }),
      "generation_config.json": json({ eos_token_id: 2 }),
      "tokenizer.json": json({ model: { vocab: {} } }),
      "tokenizer_config.json": json({ chat_template: "{{ messages }}" }),
      "README.md": Buffer.from("# not needed\n"),
      "onnx/model.onnx": bytes(5000, 1),
      "onnx/model.onnx_data": bytes(7000, 2),
      "onnx/model_q4.onnx": bytes(3000, 3),
      "onnx/model_fp16.onnx": bytes(4000, 4),
      ...extra,
    }),
  );
}

let hub: HubStandIn;
let root: string;
let n = 0;
/** Settings with a fresh cache folder. */
function settings(over: Partial<HubSettings> = {}): HubSettings {
  return { endpoint: hub.hubUrl, cacheDir: join(root, `cache-${++n}`), offline: false, ...over };
}
const repoDir = (s: HubSettings, repo: string) =>
  join(s.cacheDir, `models--${repo.replace("/", "--")}`);

/** A URL on 127.0.0.1 where nothing listens (a port just released). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), "halo-hub-"));
  hub = await new HubStandIn().start();
});
test.after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

test("downloads the files one dtype needs into huggingface_hub's cache layout", async () => {
  const files = repoFiles();
  const commit = hub.commit("acme/tiny", files);
  const s = settings();
  const snap = await resolveHubModel({ repo: "acme/tiny", dtype: "fp32" }, { settings: s });
  const repo = repoDir(s, "acme/tiny");
  assert.is(snap.commit, commit);
  assert.is(snap.dir, join(repo, "snapshots", commit));
  assert.equal(snap.decoder, {
    dtype: "fp32",
    onnxFile: "onnx/model.onnx",
    files: ["onnx/model.onnx", "onnx/model.onnx_data"],
    reason: "dtype fp32",
  });
  assert.is(readFileSync(join(repo, "refs", "main"), "utf8"), commit);
  // The README and the other dtypes' graphs are not fetched.
  const wanted = [
    "config.json",
    "generation_config.json",
    "onnx/model.onnx",
    "onnx/model.onnx_data",
    "tokenizer.json",
    "tokenizer_config.json",
  ];
  const listed = readdirSync(snap.dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(snap.dir.length + 1))
    .sort();
  assert.equal(listed, wanted);
  for (const path of wanted) {
    const body = files.get(path)!;
    const etag = body.length >= 1024 ? sha256(body) : gitSha1(body);
    const pointer = join(snap.dir, path);
    // A relative link into blobs/<etag>, as huggingface_hub makes them.
    assert.ok(lstatSync(pointer).isSymbolicLink(), path);
    const depth = path.split("/").length;
    assert.is(readlinkSync(pointer), `${"../".repeat(depth + 1)}blobs/${etag}`);
    assert.ok(readFileSync(pointer).equals(body), `${path} is byte-identical`);
  }
  assert.equal(
    readdirSync(join(repo, "blobs")).filter((f) => f.includes(".incomplete")),
    [],
  );
  assert.not.ok(hub.requests("hub").some((r) => r.path.includes("README")));
});

test("the default dtype comes from transformers.js_config; a missing dtype lists what exists", async () => {
  hub.commit(
    "acme/q4-default",
    repoFiles({
      "config.json": json({ model_type: "llama", "transformers.js_config": { dtype: "q4" } }),
    }),
  );
  const s = settings();
  const snap = await resolveHubModel({ repo: "acme/q4-default" }, { settings: s });
  assert.is(snap.decoder.dtype, "q4");
  assert.is(snap.decoder.onnxFile, "onnx/model_q4.onnx");
  assert.not.ok(existsSync(join(snap.dir, "onnx/model.onnx")));

  const err = await rejects(
    resolveHubModel({ repo: "acme/q4-default", dtype: "int8" }, { settings: s }),
  );
  assert.instance(err, DtypeMissingError);
  assert.match(err.message, /no int8 decoder/);
  assert.match(
    err.message,
    /fp32 \(onnx\/model\.onnx\), fp16 \(onnx\/model_fp16\.onnx\), q4 \(onnx\/model_q4\.onnx\)/,
  );
});

test("revision pinning: a moved branch gives a new snapshot, a pinned commit keeps the old", async () => {
  const first = repoFiles();
  const c1 = hub.commit("acme/moving", first);
  const s = settings();
  const a = await resolveHubModel({ repo: "acme/moving" }, { settings: s });
  const changed = new Map(first).set("onnx/model.onnx", bytes(5000, 99));
  const c2 = hub.commit("acme/moving", changed);
  const before = hub.log.length;
  const b = await resolveHubModel({ repo: "acme/moving" }, { settings: s });
  assert.is(a.commit, c1);
  assert.is(b.commit, c2);
  assert.is.not(a.dir, b.dir);
  assert.is(readFileSync(join(repoDir(s, "acme/moving"), "refs", "main"), "utf8"), c2);
  assert.ok(readFileSync(join(b.dir, "onnx/model.onnx")).equals(changed.get("onnx/model.onnx")!));
  assert.ok(readFileSync(join(a.dir, "onnx/model.onnx")).equals(first.get("onnx/model.onnx")!));
  // Unchanged files are linked to the blobs already there: only the new graph crossed the wire.
  const fetched = hub.log.slice(before).filter((r) => r.server === "cdn");
  assert.equal(
    fetched.map((r) => r.path.split("?")[0]),
    [`/blobs/${sha256(changed.get("onnx/model.onnx")!)}`],
  );
  // A commit that is complete in the cache needs no request at all.
  const quiet = hub.log.length;
  const pinned = await resolveHubModel({ repo: "acme/moving", revision: c1 }, { settings: s });
  assert.is(pinned.dir, a.dir);
  assert.ok(pinned.fromCache);
  assert.is(hub.log.length, quiet);
});

test("offline mode uses refs/ and the snapshot only, and says what is missing and how to fetch it", async () => {
  hub.commit("acme/offline", repoFiles());
  const s = settings();
  const online = await resolveHubModel({ repo: "acme/offline", dtype: "fp16" }, { settings: s });
  const quiet = hub.log.length;
  const off = { ...s, offline: true };
  const snap = await resolveHubModel({ repo: "acme/offline", dtype: "fp16" }, { settings: off });
  assert.is(snap.dir, online.dir);
  assert.is(snap.decoder.onnxFile, "onnx/model_fp16.onnx");
  assert.is(hub.log.length, quiet, "no request offline");
  const missing = await rejects(
    resolveHubModel({ repo: "acme/offline", dtype: "q4" }, { settings: off }),
  );
  assert.instance(missing, HubError);
  assert.is((missing as HubError).kind, "offline-missing");
  assert.match(missing.message, /missing the q4 decoder graph/);
  assert.match(missing.message, /halo pull acme\/offline --dtype q4/);
  const absent = await rejects(
    resolveHubModel({ repo: "acme/never", revision: "v2" }, { settings: off }),
  );
  assert.match(absent.message, /acme\/never@v2 is not in the cache/);
  assert.match(absent.message, /halo pull acme\/never --revision v2/);
  assert.is(hub.log.length, quiet);
});

test("a gated repo needs the token, which never goes to the content host", async () => {
  hub.commit("acme/gated", repoFiles(), "main", "secret-token");
  const denied = await rejects(resolveHubModel({ repo: "acme/gated" }, { settings: settings() }));
  assert.is((denied as HubError).kind, "auth");
  assert.match(denied.message, /set HF_TOKEN/);
  assert.match(denied.message, /accept the model's licence/);
  const before = hub.log.length;
  const snap = await resolveHubModel(
    { repo: "acme/gated" },
    { settings: settings({ token: "secret-token" }) },
  );
  assert.ok(existsSync(join(snap.dir, "onnx/model.onnx")));
  const seen = hub.log.slice(before);
  assert.ok(
    seen.filter((r) => r.server === "hub").every((r) => r.authorization === "Bearer secret-token"),
  );
  const cdn = seen.filter((r) => r.server === "cdn");
  assert.ok(cdn.length > 0);
  assert.ok(
    cdn.every((r) => r.authorization === undefined),
    "no token sent to the CDN",
  );
});

test("404s say which of repo, revision or file is missing", async () => {
  hub.commit("acme/exists", repoFiles());
  const s = settings();
  const repo = await rejects(resolveHubModel({ repo: "acme/nope" }, { settings: s }));
  assert.is((repo as HubError).kind, "repo-not-found");
  assert.match(repo.message, /acme\/nope: no such model repository/);
  const rev = await rejects(
    resolveHubModel({ repo: "acme/exists", revision: "v9" }, { settings: s }),
  );
  assert.is((rev as HubError).kind, "revision-not-found");
  assert.match(rev.message, /no revision 'v9'/);
  hub.hidden.add("onnx/model.onnx_data");
  const file = await rejects(resolveHubModel({ repo: "acme/exists" }, { settings: s }));
  hub.hidden.clear();
  assert.is((file as HubError).kind, "file-not-found");
  assert.match(
    file.message,
    /acme\/exists@main: no file 'onnx\/model\.onnx_data' \(HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/acme\/exists\/resolve\//,
  );
  hub.commit("acme/no-config", new Map([["tokenizer.json", json({})]]));
  const noConfig = await rejects(resolveHubModel({ repo: "acme/no-config" }, { settings: s }));
  assert.match(noConfig.message, /has no config\.json/);
});

test("a cut connection resumes with a Range request and the file is byte-identical", async () => {
  const files = repoFiles();
  hub.commit("acme/cut", files);
  const graph = files.get("onnx/model.onnx")!;
  hub.cutOnce.add(sha256(graph));
  const s = settings();
  const before = hub.log.length;
  const snap = await resolveHubModel({ repo: "acme/cut" }, { settings: s });
  assert.ok(readFileSync(join(snap.dir, "onnx/model.onnx")).equals(graph));
  const tries = hub.log
    .slice(before)
    .filter((r) => r.server === "cdn" && r.path.startsWith(`/blobs/${sha256(graph)}`));
  assert.is(tries.length, 2);
  assert.is(tries[0]!.range, undefined);
  assert.is(tries[1]!.range, `bytes=${Math.floor(graph.length / 2)}-`);
});

test("a partial download is never used: kept as .incomplete, resumed by the next run", async () => {
  const files = repoFiles();
  hub.commit("acme/partial", files);
  const graph = files.get("onnx/model.onnx")!;
  const sha = sha256(graph);
  hub.cutAlways.add(sha);
  const s = settings();
  const err = await rejects(resolveHubModel({ repo: "acme/partial" }, { settings: s, retries: 1 }));
  assert.is((err as HubError).kind, "network");
  assert.match(
    err.message,
    /downloading onnx\/model\.onnx from http:\/\/127\.0\.0\.1:\d+\/acme\/partial\/resolve\/.* failed after 2 tries/,
  );
  assert.match(err.message, /run again to resume/);
  const blobs = join(repoDir(s, "acme/partial"), "blobs");
  assert.ok(existsSync(join(blobs, `${sha}.incomplete`)));
  assert.not.ok(existsSync(join(blobs, sha)));
  // Neither offline mode nor a pinned-commit lookup takes the snapshot as complete.
  const off = await rejects(
    resolveHubModel({ repo: "acme/partial" }, { settings: { ...s, offline: true } }),
  );
  assert.is((off as HubError).kind, "offline-missing");
  const kept = statSync(join(blobs, `${sha}.incomplete`)).size;
  assert.ok(kept > 0 && kept < graph.length);
  hub.cutAlways.delete(sha);
  const before = hub.log.length;
  const snap = await resolveHubModel({ repo: "acme/partial" }, { settings: s });
  assert.ok(readFileSync(join(snap.dir, "onnx/model.onnx")).equals(graph));
  const resumed = hub.log.slice(before).filter((r) => r.server === "cdn" && r.path.includes(sha));
  assert.is(resumed.length, 1);
  assert.is(resumed[0]!.range, `bytes=${kept}-`);
  assert.not.ok(existsSync(join(blobs, `${sha}.incomplete`)));
});

test("a file damaged in transit fails its hash check and is deleted", async () => {
  const files = repoFiles();
  hub.commit("acme/corrupt", files);
  const sha = sha256(files.get("onnx/model.onnx")!);
  hub.corrupt.add(sha);
  const s = settings();
  const err = await rejects(resolveHubModel({ repo: "acme/corrupt" }, { settings: s }));
  hub.corrupt.delete(sha);
  assert.is((err as HubError).kind, "corrupt");
  assert.match(err.message, /does not match its hash/);
  const blobs = readdirSync(join(repoDir(s, "acme/corrupt"), "blobs"));
  assert.not.ok(blobs.some((b) => b.startsWith(sha)));
});

test("a slow file reports progress as it arrives; a stalled one fails naming the URL", async () => {
  const files = repoFiles();
  hub.commit("acme/slow", files);
  const graph = files.get("onnx/model.onnx")!;
  hub.slow.set(sha256(graph), { chunk: 500, pauseMs: 15 });
  const seen: DownloadProgress[] = [];
  const snap = await resolveHubModel(
    { repo: "acme/slow" },
    { settings: settings(), onProgress: (p) => seen.push({ ...p }) },
  );
  hub.slow.clear();
  assert.ok(readFileSync(join(snap.dir, "onnx/model.onnx")).equals(graph));
  const during = seen.filter((p) => p.file === "onnx/model.onnx" && !p.done);
  assert.ok(during.length >= 5, `several updates while the slow file arrives (${during.length})`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytesDone >= seen[i - 1]!.bytesDone);
  const last = seen.at(-1)!;
  assert.ok(last.done);
  assert.is(last.bytesDone, last.bytesTotal);
  assert.is(last.filesDone, last.filesTotal);

  hub.commit("acme/stall", files);
  hub.stall.add(sha256(graph));
  const err = await rejects(
    resolveHubModel({ repo: "acme/stall" }, { settings: settings(), stallMs: 150, retries: 0 }),
  );
  hub.stall.clear();
  assert.is((err as HubError).kind, "network");
  assert.match(
    err.message,
    /no data from http:\/\/127\.0\.0\.1:\d+\/acme\/stall\/resolve\/[0-9a-f]{40}\/onnx\/model\.onnx for 0\.15 s/,
  );
});

test("an interrupted download stops at once, keeps its bytes, and the next run resumes", async () => {
  const files = repoFiles();
  hub.commit("acme/interrupt", files);
  const graph = files.get("onnx/model.onnx")!;
  const sha = sha256(graph);
  hub.slow.set(sha, { chunk: 500, pauseMs: 40 });
  const s = settings();
  const stop = new AbortController();
  const err = await rejects(
    resolveHubModel(
      { repo: "acme/interrupt" },
      {
        settings: s,
        signal: stop.signal,
        // bytesDone counts the whole download: the graph comes last.
        onProgress: (p) =>
          p.file === "onnx/model.onnx" &&
          p.bytesTotal - p.bytesDone <= graph.length - 1500 &&
          stop.abort(),
      },
    ),
  );
  hub.slow.clear();
  assert.is(err.name, "AbortError");
  const kept = statSync(join(repoDir(s, "acme/interrupt"), "blobs", `${sha}.incomplete`)).size;
  assert.ok(kept >= 1500 && kept < graph.length, `kept ${kept} bytes`);
  const before = hub.log.length;
  const snap = await resolveHubModel({ repo: "acme/interrupt" }, { settings: s });
  assert.ok(readFileSync(join(snap.dir, "onnx/model.onnx")).equals(graph));
  const resumed = hub.log.slice(before).filter((r) => r.server === "cdn" && r.path.includes(sha));
  assert.equal(
    resumed.map((r) => r.range),
    [`bytes=${kept}-`],
  );
});

test("a hostile hub can neither write outside the cache nor fill the disk", async () => {
  const files = repoFiles();
  hub.commit("acme/hostile", files);
  const s = settings();
  // More bytes than announced: cut off at the announced size, and the file is thrown away.
  const sha = sha256(files.get("onnx/model.onnx")!);
  hub.oversize.add(sha);
  const big = await rejects(resolveHubModel({ repo: "acme/hostile" }, { settings: s }));
  hub.oversize.delete(sha);
  assert.is((big as HubError).kind, "corrupt");
  assert.match(big.message, /came to \d+ bytes, but the hub announced 5000/);
  const blobs = readdirSync(join(repoDir(s, "acme/hostile"), "blobs"));
  assert.not.ok(blobs.some((b) => b.startsWith(sha)));
  // An ETag that is a path: refused before anything is written.
  hub.etagOverride.set("onnx/model.onnx", "../../../escape");
  const etag = await rejects(resolveHubModel({ repo: "acme/hostile" }, { settings: settings() }));
  hub.etagOverride.clear();
  assert.match(etag.message, /unusable ETag '\.\.\/\.\.\/\.\.\/escape'/);
  // A listing (through genai_config.json) naming a file outside the snapshot: refused.
  hub.commit(
    "acme/escape",
    new Map([
      ["config.json", json({})],
      ["tokenizer.json", json({})],
      ["genai_config.json", json({ model: { decoder: { filename: "../../escape.onnx" } } })],
      ["../../escape.onnx", bytes(2000, 5)],
    ]),
  );
  const path = await rejects(resolveHubModel({ repo: "acme/escape" }, { settings: settings() }));
  assert.match(path.message, /unsafe file path '\.\.\/\.\.\/escape\.onnx'/);
  assert.not.ok(existsSync(join(root, "escape.onnx")));
});

test("an unreachable hub is a network error naming the URL; a complete cache still serves", async () => {
  hub.commit("acme/reach", repoFiles());
  const s = settings();
  const online = await resolveHubModel({ repo: "acme/reach" }, { settings: s });
  const down = { ...s, endpoint: await closedPortUrl() };
  const snap = await resolveHubModel({ repo: "acme/reach" }, { settings: down });
  assert.is(snap.dir, online.dir);
  assert.ok(snap.fromCache);
  const err = await rejects(
    resolveHubModel(
      { repo: "acme/reach" },
      { settings: { ...down, cacheDir: join(root, "empty") } },
    ),
  );
  assert.is((err as HubError).kind, "network");
  assert.match(
    err.message,
    /cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/models\/acme\/reach\/revision\/main: ECONNREFUSED/,
  );
});

test("a cache laid out by the Python tools is read as it is", async () => {
  // What huggingface_hub leaves: blobs named by ETag, relative links, refs/main.
  const s = settings();
  const commit = "c".repeat(40);
  const repo = repoDir(s, "py/made");
  const { mkdirSync, symlinkSync, writeFileSync } = await import("node:fs");
  const put = (path: string, body: Buffer, etag: string) => {
    mkdirSync(join(repo, "blobs"), { recursive: true });
    writeFileSync(join(repo, "blobs", etag), body);
    const pointer = join(repo, "snapshots", commit, path);
    mkdirSync(join(pointer, ".."), { recursive: true });
    symlinkSync(`${"../".repeat(path.split("/").length + 1)}blobs/${etag}`, pointer);
  };
  for (const [path, body] of repoFiles()) if (path !== "README.md") put(path, body, gitSha1(body));
  mkdirSync(join(repo, "refs"), { recursive: true });
  writeFileSync(join(repo, "refs", "main"), commit);
  const snap = cachedSnapshot({ repo: "py/made", dtype: "fp16" }, { ...s, offline: true });
  assert.is(snap.commit, commit);
  assert.is(snap.decoder.onnxFile, "onnx/model_fp16.onnx");
});

test.run();
