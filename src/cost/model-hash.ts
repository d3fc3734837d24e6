// Identity of a model's files for the profile cache: a changed file must give a new key. Files up
// to 256 MiB are hashed whole (about 0.3 s per 100 MB here); bigger ones (a 0.5B fp32 model is
// 2 GB, 5-8 s to hash whole) by their size plus 64 evenly spaced 1 MiB chunks, which catches any
// re-export or re-quantization in well under a second. Memoized per (path, size, mtime).
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { basename } from "node:path";

const WHOLE_LIMIT = 256 * 2 ** 20;
const CHUNK = 2 ** 20;
const CHUNKS = 64;
const memo = new Map<string, string>();

export function hashModelFiles(files: readonly string[]): string {
  const h = createHash("sha256");
  for (const file of files) {
    h.update(`${basename(file)}\0${hashFile(file)}\0`);
  }
  return h.digest("hex");
}

function hashFile(file: string): string {
  const st = statSync(file);
  const key = `${file}\0${st.size}\0${st.mtimeMs}`;
  const known = memo.get(key);
  if (known) return known;
  const h = createHash("sha256");
  h.update(`${st.size}\0`);
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    if (st.size <= WHOLE_LIMIT) {
      let pos = 0;
      while (pos < st.size) {
        const n = readSync(fd, buf, 0, CHUNK, pos);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        pos += n;
      }
    } else {
      for (let i = 0; i < CHUNKS; i++) {
        const pos = Math.floor(((st.size - CHUNK) * i) / (CHUNKS - 1));
        const n = readSync(fd, buf, 0, CHUNK, pos);
        h.update(buf.subarray(0, n));
      }
    }
  } finally {
    closeSync(fd);
  }
  const digest = h.digest("hex");
  memo.set(key, digest);
  return digest;
}
