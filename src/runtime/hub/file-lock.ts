// A lock between processes for one download (two kernels, or a kernel and `halo serve`, asking
// for the same model at once must not append to the same `.incomplete` file). The lock is a file
// created exclusively that holds the owner's pid; a lock whose owner is gone (killed mid-download)
// is taken over, so a crash never blocks later runs.
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

const POLL_MS = 200;

function ownerAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, "utf8").trim());
  } catch {
    return true; // being written or just removed: look again
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryLock(path: string): boolean {
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  }
}

/** Runs `fn` holding the lock at `path`, waiting while another live process holds it. */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  while (!tryLock(path)) {
    if (!ownerAlive(path)) {
      rmSync(path, { force: true });
      continue;
    }
    signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
