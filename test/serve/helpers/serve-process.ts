// `halo serve` as a real process for tests: started on a free port, resolved once it prints where
// it listens, its stderr kept.
import { spawn, type ChildProcess } from "node:child_process";

export function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  const child = spawn(process.execPath, ["bin/halo.js", "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, HALO_CALIBRATE: "0", ...env },
  });
  const log: string[] = [];
  child.stderr!.on("data", (d: Buffer) => log.push(d.toString()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /halo: serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, log });
    });
    child.once("exit", (code) => reject(new Error(`halo serve exited ${code}: ${log.join("")}`)));
  });
}
