// Results of single calls on disk (`$HALO_CACHE_DIR/results`, see src/cache-dir.ts), so a notebook
// re-run after a kernel restart, or a collect cut short by a crash, resumes instead of
// recomputing. One JSON file per call under `v1/<kind>/<2 hex>/<sha256>.json`: the key is a hash
// (an HTTP call's headers may hold a token; the file never names it), written to a temporary file
// and renamed, so a reader in another process (two kernels on one cache) sees the old entry or
// the new one, never half of one. An entry that does not parse, or whose key or kind is not the
// one asked for, is ignored and replaced by the next write: never an exception to the user.
//
// The size limit is kept least recently used first: a hit touches the file's mtime, and a trim
// (async, one at a time per process, started when this process's writes since the last scan
// could pass the limit) deletes the oldest files down to 90% of it. Several processes each trim
// from what they see; at worst the folder briefly exceeds the limit by what they wrote between
// two scans.
import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { haloCacheDir } from "../cache-dir.ts";

/** What is kept on disk: LLM answers (by model content) and deterministic HTTP requests. */
export type DiskKind = "llm" | "http";
export const DISK_KINDS: readonly DiskKind[] = ["llm", "http"];

/** `HALO_RESULT_CACHE`: on (default), off (never touch the folder), read or write only. */
export type ResultCacheMode = "on" | "off" | "read" | "write";

const FORMAT = 1;
/** Deeper values are kept in the session only (JSON.stringify recurses; 512 levels is safe). */
const MAX_DEPTH = 512;
/** Temporary files of a writer that died mid-write are removed by the next trim after this. */
const STALE_TMP_MS = 3_600_000;
const DEFAULT_MAX_MB = 512;

export interface ResultCacheSettings {
  dir: string;
  maxBytes: number;
  mode: ResultCacheMode;
}

/** The folder, the limit (`HALO_RESULT_CACHE_MAX_MB`) and the mode (`HALO_RESULT_CACHE`). */
export function resultCacheSettings(env: NodeJS.ProcessEnv = process.env): ResultCacheSettings {
  const mb = Number(env.HALO_RESULT_CACHE_MAX_MB ?? DEFAULT_MAX_MB);
  return {
    dir: haloCacheDir("results", env),
    maxBytes: (Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_MAX_MB) * 2 ** 20,
    mode: parseMode(env.HALO_RESULT_CACHE),
  };
}

function parseMode(value: string | undefined): ResultCacheMode {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "on" || v === "1" || v === "true" || v === "yes") return "on";
  if (v === "off" || v === "0" || v === "false" || v === "no") return "off";
  if (v === "read" || v === "write") return v;
  process.emitWarning(
    `HALO_RESULT_CACHE='${value}' is not one of on, off, read, write: using on`,
    "HaloWarning",
  );
  return "on";
}

export interface KindInfo {
  entries: number;
  bytes: number;
}

export interface DiskStoreInfo extends KindInfo {
  dir: string;
  maxBytes: number;
  byKind: Record<DiskKind, KindInfo>;
}

interface EntryFile {
  path: string;
  kind: DiskKind;
  bytes: number;
  mtimeMs: number;
}

export class DiskResultStore {
  private readonly madeDirs = new Set<string>();
  /** Bytes in the folder at the last scan (undefined: not scanned by this process yet). */
  private scannedBytes: number | undefined;
  private writtenSinceScan = 0;
  private trimming: Promise<void> | undefined;
  private warned = false;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  private get root(): string {
    return join(this.dir, `v${FORMAT}`);
  }

  private pathOf(kind: DiskKind, hash: string): string {
    return join(this.root, kind, hash.slice(0, 2), `${hash}.json`);
  }

  /** The stored value, or undefined (absent, older than `maxAgeMs`, or unreadable). */
  get(kind: DiskKind, hash: string, maxAgeMs = Infinity): { value: unknown } | undefined {
    const path = this.pathOf(kind, hash);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
    const entry = parseEntry(text, kind, hash);
    if (!entry) {
      rmSync(path, { force: true });
      return undefined;
    }
    if (Date.now() - entry.at > maxAgeMs) return undefined;
    try {
      const now = new Date();
      utimesSync(path, now, now); // least recently used goes first
    } catch {
      // Trimmed by another process meanwhile: the value read is still good.
    }
    return { value: entry.value };
  }

  /**
   * Writes one result (false: not written, because the value is not plain JSON data that reads
   * back exactly, or the folder is not writable; a warning says so once).
   */
  put(kind: DiskKind, hash: string, value: unknown): boolean {
    if (!isPlainJson(value)) return false;
    const body = JSON.stringify({ format: FORMAT, kind, key: hash, at: Date.now(), value });
    const path = this.pathOf(kind, hash);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      this.writeAtomically(path, tmp, body);
    } catch (err) {
      rmSync(tmp, { force: true });
      this.warnOnce(err);
      return false;
    }
    this.writtenSinceScan += Buffer.byteLength(body);
    if (
      this.scannedBytes === undefined ||
      this.scannedBytes + this.writtenSinceScan > this.maxBytes
    )
      void this.trim();
    return true;
  }

  private writeAtomically(path: string, tmp: string, body: string): void {
    const folder = dirname(path);
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.madeDirs.has(folder)) {
          mkdirSync(folder, { recursive: true, mode: 0o700 });
          this.madeDirs.add(folder);
        }
        writeFileSync(tmp, body, { mode: 0o600 });
        renameSync(tmp, path);
        return;
      } catch (err) {
        // `halo cache clear` in another process removed the folder: make it again, once.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT" || attempt > 0) throw err;
        this.madeDirs.delete(folder);
      }
    }
  }

  /** Deletes the least recently used entries down to 90% of the limit (one trim at a time). */
  trim(): Promise<void> {
    this.trimming ??= this.scanAndTrim()
      .catch((err: unknown) => this.warnOnce(err))
      .finally(() => (this.trimming = undefined));
    return this.trimming;
  }

  private async scanAndTrim(): Promise<void> {
    this.writtenSinceScan = 0;
    const files = await this.listFiles();
    let total = files.reduce((n, f) => n + f.bytes, 0);
    if (total > this.maxBytes) {
      files.sort((a, b) => a.mtimeMs - b.mtimeMs);
      for (const f of files) {
        if (total <= this.maxBytes * 0.9) break;
        await rm(f.path, { force: true });
        total -= f.bytes;
      }
    }
    this.scannedBytes = total;
  }

  private async listFiles(): Promise<EntryFile[]> {
    const out: EntryFile[] = [];
    for (const kind of DISK_KINDS) {
      const kindDir = join(this.root, kind);
      for (const shard of await readdir(kindDir).catch(() => [] as string[])) {
        const shardDir = join(kindDir, shard);
        for (const name of await readdir(shardDir).catch(() => [] as string[])) {
          const path = join(shardDir, name);
          const st = await stat(path).catch(() => undefined);
          if (!st?.isFile()) continue;
          if (name.endsWith(".tmp")) {
            if (Date.now() - st.mtimeMs > STALE_TMP_MS) await rm(path, { force: true });
            continue;
          }
          out.push({ path, kind, bytes: st.size, mtimeMs: st.mtimeMs });
        }
      }
    }
    return out;
  }

  /** Entries and bytes, in all and per kind (for `halo cache info`). */
  info(): DiskStoreInfo {
    const byKind = {} as Record<DiskKind, KindInfo>;
    let entries = 0;
    let bytes = 0;
    for (const kind of DISK_KINDS) {
      const k = { entries: 0, bytes: 0 };
      const kindDir = join(this.root, kind);
      for (const shard of listSync(kindDir))
        for (const name of listSync(join(kindDir, shard))) {
          if (!name.endsWith(".json")) continue;
          try {
            k.bytes += statSync(join(kindDir, shard, name)).size;
            k.entries++;
          } catch {
            // removed meanwhile
          }
        }
      byKind[kind] = k;
      entries += k.entries;
      bytes += k.bytes;
    }
    return { dir: this.dir, maxBytes: this.maxBytes, entries, bytes, byKind };
  }

  /** Removes every entry (of one kind, when given); returns how many there were. */
  clear(kind?: DiskKind): number {
    const before = this.info();
    const removed = kind ? before.byKind[kind].entries : before.entries;
    rmSync(kind ? join(this.root, kind) : this.root, { recursive: true, force: true });
    this.madeDirs.clear();
    this.scannedBytes = undefined;
    return removed;
  }

  private warnOnce(err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    process.stderr.write(
      `halo: the result cache in ${this.dir} could not be written (${(err as Error).message}); results are kept for this session only. Check the folder, or set HALO_RESULT_CACHE=off\n`,
    );
  }
}

function listSync(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function parseEntry(
  text: string,
  kind: DiskKind,
  hash: string,
): ({ at: number } & { value: unknown }) | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    return undefined;
  }
  const e = entry as {
    format?: unknown;
    kind?: unknown;
    key?: unknown;
    at?: unknown;
    value?: unknown;
  };
  if (!e || typeof e !== "object" || e.format !== FORMAT || e.kind !== kind || e.key !== hash)
    return undefined;
  if (typeof e.at !== "number" || !("value" in e)) return undefined;
  return { at: e.at, value: e.value };
}

/**
 * True when JSON reads the value back exactly: null, booleans, strings, finite numbers other
 * than -0, and arrays and plain objects of those, at most MAX_DEPTH deep. Anything else (a Date,
 * a BigInt, undefined in an array) stays in the session store only.
 */
export function isPlainJson(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v === "string" || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v) || Object.is(v, -0)) return false;
      continue;
    }
    if (typeof v !== "object" || depth >= MAX_DEPTH) return false;
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, depth + 1]);
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    for (const x of Object.values(v)) stack.push([x, depth + 1]);
  }
  return true;
}

const stores = new Map<string, DiskResultStore>();

/** The process's store for a folder and limit (one trim state per folder). */
export function diskResultStore(settings: ResultCacheSettings): DiskResultStore {
  const key = `${settings.dir}\0${settings.maxBytes}`;
  let store = stores.get(key);
  if (!store) stores.set(key, (store = new DiskResultStore(settings.dir, settings.maxBytes)));
  return store;
}
