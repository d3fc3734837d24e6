// huggingface_hub's cache layout, so a cache filled by the Python tools serves Halo and the
// other way round:
//   <cache>/models--org--name/
//     blobs/<etag>                 file contents, named by the hub's ETag (sha256 for LFS files,
//                                  the git blob sha1 for the rest); `<etag>.incomplete` while
//                                  downloading, renamed into place only when whole and verified
//     snapshots/<commit>/<path>    relative symlinks into blobs (copies where links fail)
//     refs/<revision>              the commit a branch or tag pointed to when last resolved
// Plus `<cache>/.locks/models--org--name/` for Halo's cross-process download locks.
import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { HubError } from "./hub-error.ts";
import { repoFolderName } from "./hub-id.ts";

/** A repository path from a hub listing that is safe to join under a folder. */
export function checkRepoPath(path: string): string {
  if (
    path === "" ||
    isAbsolute(path) ||
    path.includes("\\") ||
    path.split("/").some((p) => p === ".." || p === "." || p === "")
  )
    throw new HubError(
      "http",
      `the hub listed an unsafe file path '${path}'; refusing to write it`,
    );
  return path;
}

let tmpCounter = 0;
const tmpName = (path: string) => `${path}.${process.pid}.${++tmpCounter}.tmp`;

export class RepoCache {
  readonly root: string;
  readonly locks: string;

  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    this.root = join(cacheDir, repoFolderName(repoId));
    this.locks = join(cacheDir, ".locks", repoFolderName(repoId));
  }

  blobPath(etag: string): string {
    if (!/^[\w.-]+$/.test(etag) || etag.startsWith("."))
      throw new HubError("http", `${this.repoId}: unusable ETag '${etag}' from the hub`);
    return join(this.root, "blobs", etag);
  }

  snapshotDir(commit: string): string {
    return join(this.root, "snapshots", commit);
  }

  pointerPath(commit: string, path: string): string {
    return join(this.snapshotDir(commit), ...checkRepoPath(path).split("/"));
  }

  /** The commit `refs/<revision>` holds, if any. */
  readRef(revision: string): string | undefined {
    try {
      const commit = readFileSync(join(this.root, "refs", ...revision.split("/")), "utf8").trim();
      return commit || undefined;
    } catch {
      return undefined;
    }
  }

  writeRef(revision: string, commit: string): void {
    const path = join(this.root, "refs", ...checkRepoPath(revision).split("/"));
    if (this.readRef(revision) === commit) return;
    mkdirSync(dirname(path), { recursive: true });
    const tmp = tmpName(path);
    writeFileSync(tmp, commit);
    renameSync(tmp, path);
  }

  /** True when the snapshot has `path` and it leads to a file (a dangling link does not count). */
  hasFile(commit: string, path: string): boolean {
    const pointer = this.pointerPath(commit, path); // throws for an unsafe path
    try {
      return statSync(pointer).isFile();
    } catch {
      return false;
    }
  }

  /** Puts `snapshots/<commit>/<path>` in place, pointing at the blob (atomically replaced). */
  linkFile(commit: string, path: string, etag: string): void {
    const pointer = this.pointerPath(commit, path);
    const blob = this.blobPath(etag);
    mkdirSync(dirname(pointer), { recursive: true });
    const tmp = tmpName(pointer);
    try {
      symlinkSync(relative(dirname(pointer), blob).split(sep).join("/"), tmp);
    } catch {
      // Filesystems without symlinks (some network and Windows mounts): a copy, as
      // huggingface_hub falls back to.
      copyFileSync(blob, tmp);
    }
    renameSync(tmp, pointer);
  }
}
