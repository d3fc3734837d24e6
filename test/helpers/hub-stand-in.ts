// A Hugging Face hub stand-in for tests, on 127.0.0.1: two node:http servers, the hub and its
// content host ("CDN"), speaking the layout the hub client relies on:
//   GET  /api/models/{org}/{name}/revision/{rev}   -> { id, sha, siblings: [{ rfilename }] }
//   HEAD|GET /{org}/{name}/resolve/{rev}/{path}    -> small files: 200, ETag = git blob sha1;
//        large files (LFS): 302 to the CDN, X-Linked-Etag = sha256, X-Linked-Size
//   errors: 401 for a gated repo without the token, 404 with X-Error-Code RepoNotFound,
//        RevisionNotFound or EntryNotFound
// The CDN honours Range, and can cut a connection mid-file, trickle a file slowly, or stall.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";

export interface LoggedRequest {
  server: "hub" | "cdn";
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

interface Repo {
  branches: Map<string, string>;
  commits: Map<string, Map<string, Buffer>>;
  /** Token required (a gated repo). */
  token?: string;
}

/** Files at or above this size are served as LFS files (redirect to the CDN). */
const LFS_MIN_BYTES = 1024;

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
export const gitSha1 = (b: Buffer) =>
  createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");

/** Reads a folder into repo paths -> contents. */
export function readFolder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p).split(sep).join("/"), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

export class HubStandIn {
  readonly repos = new Map<string, Repo>();
  readonly log: LoggedRequest[] = [];
  /** sha256 of blobs whose next CDN response is cut after half its bytes (once each). */
  readonly cutOnce = new Set<string>();
  /** sha256 of blobs cut on every response (a download that never completes). */
  readonly cutAlways = new Set<string>();
  /** sha256 of blobs sent in small chunks with a pause between them. */
  readonly slow = new Map<string, { chunk: number; pauseMs: number }>();
  /** sha256 of blobs whose response sends headers and then nothing. */
  readonly stall = new Set<string>();
  /** Bytes the CDN corrupts in flight (first byte flipped) for these sha256s. */
  readonly corrupt = new Set<string>();
  /** sha256 of blobs the CDN sends with a megabyte of extra bytes (more than the hub announced). */
  readonly oversize = new Set<string>();
  /** Repo paths the listing shows but resolve answers 404 EntryNotFound for (a racing delete). */
  readonly hidden = new Set<string>();
  /** Repo path -> the ETag the hub announces for it instead of the real one (a hostile hub). */
  readonly etagOverride = new Map<string, string>();
  private hub!: Server;
  private cdn!: Server;
  hubUrl = "";
  cdnUrl = "";
  private readonly blobs = new Map<string, Buffer>();
  private commitCounter = 0;

  async start(): Promise<this> {
    this.hub = createServer((req, res) => this.serveHub(req, res));
    this.cdn = createServer((req, res) => this.serveCdn(req, res));
    for (const [server, set] of [
      [this.hub, (u: string) => (this.hubUrl = u)],
      [this.cdn, (u: string) => (this.cdnUrl = u)],
    ] as const) {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      set(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    return this;
  }

  async close(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }

  /** Commits `files` to `branch` of `repo` (a new commit id) and returns the commit. */
  commit(repoId: string, files: Map<string, Buffer>, branch = "main", token?: string): string {
    let repo = this.repos.get(repoId);
    if (!repo) this.repos.set(repoId, (repo = { branches: new Map(), commits: new Map() }));
    if (token !== undefined) repo.token = token;
    const commit = createHash("sha1").update(`${repoId}\0${++this.commitCounter}`).digest("hex");
    repo.commits.set(commit, new Map(files));
    repo.branches.set(branch, commit);
    for (const b of files.values()) if (b.length >= LFS_MIN_BYTES) this.blobs.set(sha256(b), b);
    return commit;
  }

  /** Requests to the hub or CDN for `path` suffix (tests count them). */
  requests(server: "hub" | "cdn", match: (r: LoggedRequest) => boolean = () => true) {
    return this.log.filter((r) => r.server === server && match(r));
  }

  private record(server: "hub" | "cdn", req: IncomingMessage): void {
    const entry: LoggedRequest = { server, method: req.method ?? "GET", path: req.url ?? "" };
    if (req.headers.range) entry.range = req.headers.range;
    if (req.headers.authorization) entry.authorization = req.headers.authorization;
    this.log.push(entry);
  }

  private fail(res: ServerResponse, status: number, code?: string): void {
    res.writeHead(status, {
      "content-type": "application/json",
      ...(code ? { "x-error-code": code } : {}),
    });
    res.end(JSON.stringify({ error: code ?? `status ${status}` }));
  }

  private serveHub(req: IncomingMessage, res: ServerResponse): void {
    this.record("hub", req);
    const url = new URL(req.url ?? "/", this.hubUrl);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const m = api ?? resolve;
    if (!m) return this.fail(res, 404);
    const repo = this.repos.get(m[1]!);
    if (!repo) return this.fail(res, 401, "RepoNotFound"); // the hub answers 401 to hide private repos
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`)
      return this.fail(res, 401, "GatedRepo");
    const revision = decodeURIComponent(m[2]!);
    const commit = repo.commits.has(revision) ? revision : repo.branches.get(revision);
    if (!commit) return this.fail(res, 404, "RevisionNotFound");
    const files = repo.commits.get(commit)!;
    if (api) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: m[1],
          sha: commit,
          siblings: [...files.keys()].map((rfilename) => ({ rfilename })),
        }),
      );
      return;
    }
    const path = m[3]!.split("/").map(decodeURIComponent).join("/");
    const body = files.get(path);
    if (!body || this.hidden.has(path)) return this.fail(res, 404, "EntryNotFound");
    const override = this.etagOverride.get(path);
    if (body.length >= LFS_MIN_BYTES) {
      res.writeHead(302, {
        location: `${this.cdnUrl}/blobs/${sha256(body)}?signed=1`,
        "x-linked-etag": `"${override ?? sha256(body)}"`,
        "x-linked-size": String(body.length),
        "x-repo-commit": commit,
        etag: `"${gitSha1(Buffer.from("lfs pointer"))}"`,
      });
      res.end();
      return;
    }
    res.writeHead(200, {
      etag: `"${override ?? gitSha1(body)}"`,
      "content-length": String(body.length),
      "x-repo-commit": commit,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  private serveCdn(req: IncomingMessage, res: ServerResponse): void {
    this.record("cdn", req);
    const sha = /^\/blobs\/([0-9a-f]{64})/.exec(req.url ?? "")?.[1];
    const blob = sha ? this.blobs.get(sha) : undefined;
    if (!sha || !blob) return this.fail(res, 404);
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range) {
      start = Number(range[1]);
      if (start >= blob.length) {
        res.writeHead(416, { "content-range": `bytes */${blob.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        "content-range": `bytes ${start}-${blob.length - 1}/${blob.length}`,
        "content-length": String(blob.length - start),
      });
    } else if (this.oversize.has(sha))
      res.writeHead(200); // chunked, with no length to hold it
    else res.writeHead(200, { "content-length": String(blob.length) });
    let body = blob.subarray(start);
    if (this.oversize.has(sha)) body = Buffer.concat([body, Buffer.alloc(1 << 20, 7)]);
    if (this.corrupt.has(sha)) {
      body = Buffer.from(body);
      body[0] = body[0]! ^ 0xff;
    }
    if (this.stall.has(sha)) {
      res.flushHeaders();
      return; // headers, then silence
    }
    if (this.cutOnce.has(sha) || this.cutAlways.has(sha)) {
      this.cutOnce.delete(sha);
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    const slow = this.slow.get(sha);
    if (!slow) {
      res.end(body);
      return;
    }
    let offset = 0;
    const next = () => {
      if (offset >= body.length) return void res.end();
      res.write(body.subarray(offset, offset + slow.chunk));
      offset += slow.chunk;
      setTimeout(next, slow.pauseMs);
    };
    next();
  }
}
