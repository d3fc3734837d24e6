// A model from the hub as a local folder: `snapshots/<commit>/` of the huggingface_hub cache,
// holding the files one dtype needs (config, generation config, tokenizer, chat template,
// genai_config.json, the one decoder graph and its external data) and nothing else.
//
// Online: the file list and the commit come from `{endpoint}/api/models/{repo}/revision/{rev}`;
// every file is then asked for at that commit (so a branch moving mid-download cannot mix two
// commits), a HEAD per missing file gives its ETag and size, and `refs/<rev>` records the commit.
// A commit that is already complete in the cache needs no network at all. Offline
// (HF_HUB_OFFLINE=1, or the endpoint unreachable while the cache is complete): the commit comes
// from `refs/<rev>` and the files from the snapshot, or an error lists what is missing and how
// to fetch it.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  chooseDecoderIn,
  DtypeMissingError,
  readJsonObject,
  type DecoderChoice,
} from "../choose-decoder.ts";
import type { Dtype } from "../dtypes.ts";
import { downloadBlob } from "./download-blob.ts";
import { errorForResponse, HubError } from "./hub-error.ts";
import { hubRequest } from "./hub-http.ts";
import { isCommitHash } from "./hub-id.ts";
import { RepoCache } from "./hub-cache.ts";
import { hubSettings, type HubSettings } from "./hub-settings.ts";

/** Files besides the graph that a model folder may carry; each is fetched when the repo has it. */
export const COMPANION_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "chat_template.jinja",
  "chat_template.json",
  "genai_config.json",
] as const;

/** What a snapshot must hold to load at all (checked offline, where no listing says more). */
const REQUIRED = ["config.json", "tokenizer.json"];

export interface HubModelRequest {
  /** `org/name`. */
  repo: string;
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** Default: config.json's transformers.js_config default, else fp32. */
  dtype?: Dtype;
}

export interface HubSnapshot {
  repo: string;
  revision: string;
  commit: string;
  /** `snapshots/<commit>`: the model folder to load. */
  dir: string;
  decoder: DecoderChoice;
  /** Bytes downloaded by this call (0 when the cache had everything). */
  downloadedBytes: number;
  /** True when no request reached the hub (offline, pinned and cached, or hub unreachable). */
  fromCache: boolean;
}

export interface DownloadProgress {
  repo: string;
  /** The file being downloaded. */
  file: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  done: boolean;
}

export interface HubResolveOptions {
  settings?: HubSettings;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Passed to each download (tests shorten them). */
  stallMs?: number;
  retries?: number;
}

interface FileMeta {
  path: string;
  etag: string;
  size: number | undefined;
}

const label = (repo: string, revision: string) => `${repo}@${revision}`;

function normalizeEtag(value: string | null): string | undefined {
  const v = value
    ?.trim()
    .replace(/^W\//, "")
    .replace(/^"(.*)"$/, "$1");
  return v ? v : undefined;
}

/** Every file under `dir` that leads to a file, as repo paths (links followed). */
function listSnapshot(dir: string, prefix = ""): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (st.isDirectory()) out.push(...listSnapshot(path, `${prefix}${name}/`));
      else if (st.isFile()) out.push(`${prefix}${name}`);
    } catch {
      // a link whose blob is gone: as good as missing
    }
  }
  return out;
}

function pullHint(req: HubModelRequest, revision: string): string {
  const flags = [
    ...(req.dtype ? [`--dtype ${req.dtype}`] : []),
    ...(revision !== "main" ? [`--revision ${revision}`] : []),
  ];
  return `fetch them with \`halo pull ${[req.repo, ...flags].join(" ")}\` where the hub can be reached (without HF_HUB_OFFLINE=1)`;
}

/** The snapshot from the cache alone, or a HubError naming what is missing. */
export function cachedSnapshot(
  req: HubModelRequest,
  settings: HubSettings = hubSettings(),
): HubSnapshot {
  const revision = req.revision ?? "main";
  const cache = new RepoCache(settings.cacheDir, req.repo);
  const where = label(req.repo, revision);
  const commit = isCommitHash(revision) ? revision : cache.readRef(revision);
  if (!commit)
    throw new HubError(
      "offline-missing",
      `${where} is not in the cache (${join(cache.root, "refs", revision)} does not exist); ${pullHint(req, revision)}`,
    );
  const dir = cache.snapshotDir(commit);
  const paths = listSnapshot(dir);
  const missing = REQUIRED.filter((p) => !paths.includes(p));
  let decoder: DecoderChoice | undefined;
  if (readJsonObject(join(dir, "config.json"))) {
    try {
      decoder = chooseDecoderIn(`the cached snapshot ${dir}`, dir, paths, req.dtype);
    } catch (error) {
      if (!(error instanceof DtypeMissingError)) throw error;
      missing.push(`the ${req.dtype ?? "default"} decoder graph (${error.message})`);
    }
  }
  if (missing.length > 0 || !decoder)
    throw new HubError(
      "offline-missing",
      `${where} (commit ${commit}) is incomplete in the cache: missing ${missing.join(", ")}; ${pullHint(req, revision)}`,
    );
  return { repo: req.repo, revision, commit, dir, decoder, downloadedBytes: 0, fromCache: true };
}

/** Resolves a hub model to a complete local snapshot, downloading what is missing. */
export async function resolveHubModel(
  req: HubModelRequest,
  options: HubResolveOptions = {},
): Promise<HubSnapshot> {
  const settings = options.settings ?? hubSettings();
  const revision = req.revision ?? "main";
  if (settings.offline) return cachedSnapshot(req, settings);
  if (isCommitHash(revision)) {
    try {
      return cachedSnapshot(req, settings);
    } catch {
      // not complete yet: fetch below
    }
  }
  let listing: { commit: string; paths: string[] };
  try {
    listing = await fetchListing(req.repo, revision, settings, options.signal);
  } catch (error) {
    if (!(error instanceof HubError && error.kind === "network")) throw error;
    // The hub is unreachable; a complete cache still serves (as huggingface_hub does).
    try {
      const snap = cachedSnapshot(req, settings);
      process.stderr.write(`halo: ${error.message}; using the cached ${snap.dir}\n`);
      return snap;
    } catch {
      throw error;
    }
  }
  return new SnapshotFetch(req, revision, listing, settings, options).run();
}

async function fetchListing(
  repo: string,
  revision: string,
  settings: HubSettings,
  signal?: AbortSignal,
): Promise<{ commit: string; paths: string[] }> {
  const url = `${settings.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  const { response } = await hubRequest(url, settings, signal ? { signal } : {});
  if (!response.ok) {
    await response.body?.cancel();
    throw errorForResponse(response, url, { repo, revision });
  }
  const info = (await response.json().catch(() => undefined)) as
    | { sha?: unknown; siblings?: { rfilename?: unknown }[] }
    | undefined;
  const paths = (Array.isArray(info?.siblings) ? info.siblings : [])
    .map((s) => s?.rfilename)
    .filter((p): p is string => typeof p === "string");
  if (typeof info?.sha !== "string" || !isCommitHash(info.sha) || paths.length === 0)
    throw new HubError(
      "http",
      `${url} did not answer with a model's commit and file list (sha, siblings)`,
      url,
    );
  return { commit: info.sha, paths };
}

class SnapshotFetch {
  private readonly cache: RepoCache;
  private downloaded = 0;

  constructor(
    private readonly req: HubModelRequest,
    private readonly revision: string,
    private readonly listing: { commit: string; paths: string[] },
    private readonly settings: HubSettings,
    private readonly options: HubResolveOptions,
  ) {
    this.cache = new RepoCache(settings.cacheDir, req.repo);
  }

  async run(): Promise<HubSnapshot> {
    const { commit, paths } = this.listing;
    const where = label(this.req.repo, this.revision);
    if (!paths.includes("config.json"))
      throw new HubError(
        "file-not-found",
        `${where} has no config.json: not a model Halo can load (expected a transformers.js / Optimum ONNX export)`,
      );
    // The config (and genai_config.json) decide which graph to fetch: they come first.
    const head = ["config.json", "genai_config.json"].filter((p) => paths.includes(p));
    await this.fetchFiles(head, false);
    const dir = this.cache.snapshotDir(commit);
    const decoder = chooseDecoderIn(where, dir, paths, this.req.dtype);
    const rest = COMPANION_FILES.filter((p) => paths.includes(p) && !head.includes(p));
    // The graph last: a snapshot that has the graph has its external data too, so an
    // interrupted run never leaves a graph that offline mode would take as complete.
    const [graph, ...data] = decoder.files;
    await this.fetchFiles([...rest, ...data, graph!], true);
    if (this.revision !== commit) this.cache.writeRef(this.revision, commit);
    return {
      repo: this.req.repo,
      revision: this.revision,
      commit,
      dir,
      decoder,
      downloadedBytes: this.downloaded,
      fromCache: false,
    };
  }

  private resolveUrl(path: string): string {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    return `${this.settings.endpoint}/${this.req.repo}/resolve/${this.listing.commit}/${encoded}`;
  }

  /** ETag and size of one file from the hub's own answer (its redirect, for LFS files). */
  private async metadata(path: string): Promise<FileMeta> {
    const url = this.resolveUrl(path);
    const what = { repo: this.req.repo, revision: this.revision, path };
    const { response } = await hubRequest(url, this.settings, {
      method: "HEAD",
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
    if (response.status >= 400) throw errorForResponse(response, url, what);
    const h = response.headers;
    const repoCommit = h.get("x-repo-commit");
    if (repoCommit && repoCommit !== this.listing.commit)
      throw new HubError(
        "http",
        `${url} answered for commit ${repoCommit}, but the listing said ${this.listing.commit}`,
        url,
      );
    const etag = normalizeEtag(h.get("x-linked-etag") ?? h.get("etag"));
    if (!etag)
      throw new HubError("http", `${url} sent no ETag: cannot name the file in the cache`, url);
    const sizeHeader = h.get("x-linked-size") ?? h.get("content-length");
    const size = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined;
    return { path, etag, size };
  }

  /** Ensures each path is in the snapshot, downloading missing blobs in order. */
  private async fetchFiles(paths: string[], report: boolean): Promise<void> {
    const { commit } = this.listing;
    const missing = paths.filter((p) => !this.cache.hasFile(commit, p));
    const metas: FileMeta[] = [];
    for (const path of missing) metas.push(await this.metadata(path));
    const bytesTotal = metas.reduce((s, m) => s + (m.size ?? 0), 0);
    let bytesBefore = 0;
    const progress = (file: string, filesDone: number, bytesDone: number, done = false) =>
      report &&
      this.options.onProgress?.({
        repo: this.req.repo,
        file,
        filesDone,
        filesTotal: metas.length,
        bytesDone,
        bytesTotal,
        done,
      });
    for (const [i, meta] of metas.entries()) {
      const blob = this.cache.blobPath(meta.etag);
      let exists = false;
      try {
        exists = statSync(blob).isFile();
      } catch {
        // not downloaded yet
      }
      if (!exists) {
        // Bytes this call moved: a resumed file's first report is what an earlier run kept.
        let first: number | undefined;
        let got = 0;
        await downloadBlob({
          url: this.resolveUrl(meta.path),
          etag: meta.etag,
          size: meta.size,
          blobPath: blob,
          lockPath: join(this.cache.locks, `${meta.etag}.halo-lock`),
          settings: this.settings,
          what: { repo: this.req.repo, revision: this.revision, path: meta.path },
          onProgress: (bytes) => {
            first ??= bytes;
            got = bytes;
            progress(meta.path, i, bytesBefore + bytes);
          },
          ...(this.options.signal ? { signal: this.options.signal } : {}),
          ...(this.options.stallMs !== undefined ? { stallMs: this.options.stallMs } : {}),
          ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
        });
        this.downloaded += got - (first ?? 0);
      }
      this.cache.linkFile(commit, meta.path, meta.etag);
      bytesBefore += meta.size ?? 0;
      progress(meta.path, i + 1, bytesBefore, i === metas.length - 1);
    }
  }
}
