// A kernel whose frontend dies without asking it to shut down (SIGKILL) exits by itself: the
// frontend here is a small process that starts the kernel with JPY_PARENT_PID set to its own pid,
// as jupyter_client does. A kernel started without the variable is not affected.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KernelClient } from "../../kernel/client/kernel-client.ts";
import { KERNEL_DIR } from "../../kernel/paths.ts";

/** Running, not a zombie: a dead kernel re-parented to a pid 1 that does not reap stays one. */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync("/proc/self/stat")) {
    if (!existsSync(stat)) return false;
    const state = readFileSync(stat, "utf8").replace(/^.*\) /s, "")[0];
    return state !== "Z" && state !== "X";
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

// The frontend: starts the kernel as its child, says the kernel's pid on stderr, then waits.
const FRONTEND = `
const { spawn } = require("node:child_process");
const [launch, file, watch] = process.argv.slice(1);
const env = { ...process.env };
if (watch === "watch") env.JPY_PARENT_PID = String(process.pid);
else delete env.JPY_PARENT_PID;
const kernel = spawn(process.execPath, [launch, "-f", file], { env, stdio: "inherit" });
process.stderr.write("kernel pid " + kernel.pid + "\\n");
setInterval(() => {}, 1000);
`;

async function startBehindFrontend(watch: boolean) {
  let log = "";
  const client = await KernelClient.start({
    argv: [
      process.execPath,
      "-e",
      FRONTEND,
      join(KERNEL_DIR, "launch.mjs"),
      "{connection_file}",
      watch ? "watch" : "no",
    ],
    onStderr: (s) => (log += s),
  });
  const pid = Number(/kernel pid (\d+)/.exec(log)?.[1]);
  assert.ok(pid > 0, log);
  return { client, pid, log: () => log };
}

test("with JPY_PARENT_PID, a kernel whose frontend is SIGKILLed exits by itself", async () => {
  const { client, pid, log } = await startBehindFrontend(true);
  try {
    const r = await client.execute("40 + 2");
    assert.is(r.reply.content.status, "ok");
    client.process.kill("SIGKILL");
    const killed = performance.now();
    // Polled once a second: generous for a loaded machine, and the test ends as soon as it exits.
    assert.ok(await until(() => !running(pid), 30_000), `kernel ${pid} still running`);
    console.log(
      `measure: parent death: the kernel exited ${((performance.now() - killed) / 1000).toFixed(1)} s after its frontend was SIGKILLed`,
    );
    assert.match(log(), /the process that started this kernel \(pid \d+\) is gone: exiting/);
  } finally {
    if (running(pid)) process.kill(pid, "SIGKILL");
    client.close();
  }
});

test("without JPY_PARENT_PID nothing is watched: the kernel outlives its starter", async () => {
  const { client, pid } = await startBehindFrontend(false);
  try {
    client.process.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 2_500));
    assert.ok(running(pid), "the kernel exited without a parent to watch");
    // It still answers, then shuts down when asked.
    const r = await client.execute("1");
    assert.is(r.reply.content.status, "ok");
    await client.request("control", "shutdown_request", { restart: false });
    assert.ok(await until(() => !running(pid), 30_000), "did not shut down when asked");
  } finally {
    if (running(pid)) process.kill(pid, "SIGKILL");
    client.close();
  }
});

test.run();
