// One file from the hub into `blobs/<etag>`, never leaving a partial file where a reader looks:
// bytes go to `<etag>.incomplete`, a cut connection resumes from its end with an HTTP Range
// request (in this call, a few times, and in any later call), and the file is renamed into
// `blobs/` only when its size and hash match what the hub announced: the sha256 for LFS files
// (X-Linked-Etag), the git blob sha1 for the rest (ETag), as huggingface_hub names them.
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { withFileLock } from "./file-lock.ts";
import { errorForResponse, HubError } from "./hub-error.ts";
import { hubRequest } from "./hub-http.ts";
import type { HubSettings } from "./hub-settings.ts";

export interface BlobDownload {
  /** The file's resolve URL (redirects to the content host are followed). */
  url: string;
  etag: string;
  /** Bytes the hub announced (X-Linked-Size or Content-Length); undefined when it did not say. */
  size: number | undefined;
  blobPath: string;
  lockPath: string;
  settings: HubSettings;
  /** For error messages. */
  what: { repo: string; revision: string; path: string };
  /** Bytes of this file on disk so far (called as they arrive, and at a resume). */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /** A connection that sends nothing for this long is cut and resumed (default 60 s). */
  stallMs?: number;
  /** Resumes after a cut connection within this call (default 4). */
  retries?: number;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** sha256 of the content (64 hex) or the git blob sha1 (40 hex); other ETags are not hashes. */
async function matchesEtag(path: string, etag: string): Promise<boolean> {
  const lfs = /^[0-9a-f]{64}$/.test(etag);
  if (!lfs && !/^[0-9a-f]{40}$/.test(etag)) return true;
  const hash = createHash(lfs ? "sha256" : "sha1");
  if (!lfs) hash.update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex") === etag;
}

/**
 * Streams one response body to the end of `path`; resolves when the body ends, or when it passes
 * `limit` bytes in all (a server sending more than it announced is not allowed to fill the disk).
 */
async function appendBody(
  response: Response,
  path: string,
  fromByte: number,
  limit: number,
  stall: () => void,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  const fd = openSync(path, fromByte === 0 ? "w" : "a");
  let done = fromByte;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      stall();
      writeSync(fd, chunk);
      done += chunk.length;
      onProgress?.(done);
      if (done > limit) {
        await response.body?.cancel().catch(() => undefined);
        return;
      }
    }
  } finally {
    closeSync(fd);
  }
}

export async function downloadBlob(d: BlobDownload): Promise<void> {
  await withFileLock(
    d.lockPath,
    async () => {
      if (existsSync(d.blobPath)) return; // another process finished it while we waited
      await downloadLocked(d);
    },
    d.signal,
  );
}

async function downloadLocked(d: BlobDownload): Promise<void> {
  const incomplete = `${d.blobPath}.incomplete`;
  mkdirSync(dirname(d.blobPath), { recursive: true });
  const retries = d.retries ?? 4;
  const stallMs = d.stallMs ?? 60_000;
  for (let attempt = 0; ; attempt++) {
    let have = fileSize(incomplete);
    if (d.size !== undefined && have > d.size) {
      rmSync(incomplete, { force: true });
      have = 0;
    }
    d.onProgress?.(have);
    if (d.size !== undefined && have === d.size && have > 0) break;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const stall = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          controller.abort(
            new HubError("network", `no data from ${d.url} for ${stallMs / 1000} s`, d.url),
          ),
        stallMs,
      );
    };
    const signal = d.signal ? AbortSignal.any([d.signal, controller.signal]) : controller.signal;
    try {
      stall();
      const { response, url } = await hubRequest(d.url, d.settings, {
        crossOrigin: true,
        signal,
        ...(have > 0 ? { headers: { range: `bytes=${have}-` } } : {}),
      });
      let from = have;
      if (response.status === 416 && have > 0) {
        // The range starts at the end: the previous run had every byte (verified below).
        await response.body?.cancel();
        if (d.size === undefined || have === d.size) break;
        rmSync(incomplete, { force: true });
        throw new Error(`the server refused to resume at byte ${have}; starting over`);
      }
      if (response.status === 206) {
        const start = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1];
        if (Number(start) !== have) {
          await response.body?.cancel();
          rmSync(incomplete, { force: true });
          throw new Error(`the server resumed at byte ${start}, not ${have}; starting over`);
        }
      } else if (response.status === 200)
        from = 0; // the server ignored the Range: start over
      else {
        await response.body?.cancel();
        const error = errorForResponse(response, url, d.what);
        if (response.status >= 500 || response.status === 429) throw error; // retried below
        throw Object.assign(error, { final: true });
      }
      await appendBody(response, incomplete, from, d.size ?? Infinity, stall, d.onProgress);
      clearTimeout(timer);
      const got = fileSize(incomplete);
      if (d.size === undefined || got === d.size) break;
      if (got > d.size) {
        rmSync(incomplete, { force: true });
        throw Object.assign(
          new HubError(
            "corrupt",
            `${d.what.repo}: ${d.what.path} came to ${got} bytes, but the hub announced ${d.size}; deleted it, run again`,
            d.url,
          ),
          { final: true },
        );
      }
      // A body that ended early without an error (a proxy closed it): resume like a cut.
      throw new Error(`the body ended at ${got} of ${d.size} bytes`);
    } catch (error) {
      clearTimeout(timer);
      if (d.signal?.aborted) throw d.signal.reason ?? error;
      // Disk errors (no space, no permission) are not cured by retrying; HTTP errors marked final
      // (4xx) neither.
      if ((error as { final?: boolean }).final || (error as NodeJS.ErrnoException).syscall)
        throw error;
      if (attempt >= retries) {
        const got = fileSize(incomplete);
        const reason = controller.signal.aborted
          ? (controller.signal.reason as Error).message
          : error instanceof HubError
            ? error.message
            : `connection cut (${(error as Error).message})`;
        throw new HubError(
          "network",
          `${d.what.repo}: downloading ${d.what.path} from ${d.url} failed after ${attempt + 1} tries: ${reason}. ` +
            `${got} of ${d.size ?? "?"} bytes are kept in ${incomplete}; run again to resume.`,
          d.url,
        );
      }
      // A short pause before resuming: a connection reset often comes with a busy server.
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 4000)));
    }
  }
  const got = fileSize(incomplete);
  if (d.size !== undefined && got !== d.size)
    throw new HubError(
      "corrupt",
      `${d.what.repo}: ${d.what.path} has ${got} bytes, the hub announced ${d.size}`,
      d.url,
    );
  if (!(await matchesEtag(incomplete, d.etag))) {
    rmSync(incomplete, { force: true });
    throw new HubError(
      "corrupt",
      `${d.what.repo}: ${d.what.path} does not match its hash ${d.etag} (damaged in transit or a bad mirror); deleted it, run again`,
      d.url,
    );
  }
  renameSync(incomplete, d.blobPath);
}
