// A real classic Jupyter notebook server (Debian `jupyter-notebook` 6.4) for the browser test:
// every JUPYTER_* folder points into a temporary folder where the Halo kernelspec is installed
// with `halo install --prefix`, so nothing is read from or written to the home folder. Bound to
// 127.0.0.1 with a random known token and no browser.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HALO = join(ROOT, "bin", "halo.js");

export interface NotebookServer {
  /** e.g. http://127.0.0.1:8888 (no trailing slash). */
  baseUrl: string;
  token: string;
  /** The folder the server serves: notebooks go here. */
  notebookDir: string;
  /** Everything the server printed so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** True when Debian's classic notebook answers `--version` with 6.x. */
export function hasClassicNotebook(): boolean {
  const r = spawnSync("jupyter", ["notebook", "--version"], { encoding: "utf8" });
  return r.status === 0 && /^6\./.test(r.stdout.trim());
}

export async function startNotebookServer(timeoutMs = 30_000): Promise<NotebookServer> {
  const tmp = mkdtempSync(join(tmpdir(), "halo-notebook-"));
  const dirs = {
    data: join(tmp, "data"),
    config: join(tmp, "config"),
    runtime: join(tmp, "runtime"),
    prefix: join(tmp, "prefix"),
    work: join(tmp, "work"),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_DATA_DIR: dirs.data,
    JUPYTER_CONFIG_DIR: dirs.config,
    JUPYTER_RUNTIME_DIR: dirs.runtime,
    // `--prefix P` writes P/share/jupyter/kernels/halo; JUPYTER_PATH is where the server looks.
    JUPYTER_PATH: join(dirs.prefix, "share", "jupyter"),
    JUPYTER_PLATFORM_DIRS: "0",
    IPYTHONDIR: join(tmp, "ipython"),
    // The debugger warning pydevd prints on every start is noise in the log we show on failure.
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
  const install = spawnSync(process.execPath, [HALO, "install", "--prefix", dirs.prefix], {
    env,
    encoding: "utf8",
  });
  if (install.status !== 0) throw new Error(`halo install failed: ${install.stderr}`);

  const token = randomBytes(12).toString("hex");
  const child: ChildProcess = spawn(
    "jupyter",
    [
      "notebook",
      "--no-browser",
      // Test machines and containers often run as root; the flag is harmless otherwise.
      "--allow-root",
      "--ip=127.0.0.1",
      // Port 0 is not understood by notebook 6; it walks up from --port until one is free and
      // prints the URL it bound, which is what we read.
      `--port=${20000 + Math.floor(Math.random() * 20000)}`,
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${dirs.work}`,
      "--NotebookApp.open_browser=False",
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`notebook server did not start in ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = output.match(/is running at:\s*\n.*?(http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`notebook server exited (${code}) before it started:\n${output}`));
    });
  });

  return {
    baseUrl,
    token,
    notebookDir: dirs.work,
    log: () => output,
    async stop() {
      // SIGTERM makes notebook 6 stop its loop and shut its kernels down (cleanup_kernels);
      // SIGKILL only if that hangs, so no kernel process outlives the test in the normal case.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
