// Kernel start to first kernel_info_reply, a trivial execute round trip, and the first
// complete_request a few seconds after the last execute (a user typing in the next cell), for
// Halo and for tslab run the same way (our ZeroMQ client, a fresh connection file per start).
// Not a test: figures vary with machine load; see docs/kernel.md for recorded runs.
//
//   node --import tsx bench/kernel/start-and-execute.ts [--runs 5] [--executes 20]
//     [--idle-ms 3000] [--via-tsx]
//
// Halo starts as the kernelspec starts it (kernel/launch.mjs); --via-tsx uses `halo kernel`.
//
// tslab is a baseline, not a dependency: npm install --prefix .cache/bench/tslab tslab@1.0.22
// (or set TSLAB to its bin/tslab).
import { existsSync, mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KernelClient } from "../../kernel/client/kernel-client.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("--runs", 5);
const EXECUTES = arg("--executes", 20);
const IDLE_MS = arg("--idle-ms", 3000);
const VIA_TSX = process.argv.includes("--via-tsx");

interface Kernel {
  name: string;
  argv: string[];
}

const kernels: Kernel[] = [
  VIA_TSX
    ? {
        name: "halo (via tsx)",
        argv: [process.execPath, join(ROOT, "bin", "halo.js"), "kernel", "-f", "{connection_file}"],
      }
    : {
        name: "halo (launch.mjs)",
        argv: [process.execPath, join(ROOT, "kernel", "launch.mjs"), "-f", "{connection_file}"],
      },
];
const tslab =
  process.env.TSLAB ??
  join(ROOT, ".cache", "bench", "tslab", "node_modules", "tslab", "bin", "tslab");
if (existsSync(tslab))
  kernels.push({
    name: "tslab 1.0.22",
    argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"],
  });
else
  console.log(
    `notice: tslab not found at ${tslab}: npm install --prefix .cache/bench/tslab tslab@1.0.22`,
  );

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (xs: number[]) =>
  `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;

const cwd = mkdtempSync(join(tmpdir(), "halo-bench-kernel-"));
const rows: string[] = [];
for (const k of kernels) {
  const start: number[] = [];
  const first: number[] = [];
  const exec: number[] = [];
  const complete: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    const client = await KernelClient.launch({ argv: k.argv, cwd });
    try {
      await client.request("shell", "kernel_info_request", {}, { replyOnly: true });
      start.push(performance.now() - t0);
      let t = performance.now();
      await client.execute("1 + 1", { replyOnly: true });
      first.push(performance.now() - t);
      for (let i = 0; i < EXECUTES; i++) {
        t = performance.now();
        const r = await client.request(
          "shell",
          "execute_request",
          {
            code: "1 + 1",
            silent: false,
            store_history: true,
            user_expressions: {},
            allow_stdin: false,
          },
          { replyOnly: true },
        );
        exec.push(performance.now() - t);
        if (r.reply.content.status !== undefined && r.reply.content.status !== "ok")
          throw new Error(`${k.name}: execute failed`);
      }
      // The next cell is typed a few seconds later: `Math.ma|` asks for a completion.
      await new Promise((r) => setTimeout(r, IDLE_MS));
      t = performance.now();
      const c = await client.request(
        "shell",
        "complete_request",
        { code: "Math.ma", cursor_pos: 7 },
        { replyOnly: true },
      );
      complete.push(performance.now() - t);
      if (!(c.reply.content.matches as string[] | undefined)?.includes("max"))
        throw new Error(`${k.name}: completion of Math.ma lacks max`);
    } finally {
      await client.shutdown(2000);
    }
  }
  rows.push(`| ${k.name} | ${fmt(start)} | ${fmt(first)} | ${fmt(exec)} | ${fmt(complete)} |`);
}
console.log(
  `\nkernel start and execute, ${RUNS} starts, ${EXECUTES} executes each, completion ${IDLE_MS} ms after; median (min-max) ms; load average ${loadavg()[0]!.toFixed(1)}\n`,
);
console.log(
  "| kernel | start to kernel_info_reply | first execute `1 + 1` | execute `1 + 1` round trip | first complete `Math.ma` |",
);
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(r);
