// `halo run NOTEBOOK [--out FILE] [--report]`: executes every code cell through a Halo kernel
// over ZeroMQ (our own client, no Python), writes the executed notebook (default
// out/<name>.ipynb) and with --report a self-contained HTML page beside it. Stops at the first
// failing cell, as `jupyter nbconvert --execute` does, and exits 1 then.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { KernelClient } from "./client/kernel-client.ts";
import { OutputCollector, readNotebook, sourceText } from "./client/notebook.ts";
import { renderReport } from "./client/report.ts";

export interface RunOptions {
  notebook: string;
  out?: string;
  report: boolean;
  /** Per cell, in seconds (default: none). */
  timeoutS?: number;
}

export function parseRunArgs(args: string[]): RunOptions {
  let notebook: string | undefined;
  let out: string | undefined;
  let report = false;
  let timeoutS: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--out") {
      out = args[++i];
      if (!out) throw new Error("--out needs a file name");
    } else if (a === "--report") report = true;
    else if (a === "--timeout") {
      timeoutS = Number(args[++i]);
      if (!(timeoutS > 0)) throw new Error("--timeout needs a number of seconds above 0");
    } else if (a.startsWith("--")) throw new Error(`unknown option '${a}': see 'halo run --help'`);
    else if (notebook) throw new Error(`one notebook at a time: got '${notebook}' and '${a}'`);
    else notebook = a;
  }
  if (!notebook) throw new Error("missing NOTEBOOK: halo run NOTEBOOK [--out FILE] [--report]");
  return { notebook, out, report, timeoutS };
}

export async function runNotebook(
  o: RunOptions,
  log: (s: string) => void = (s) => process.stderr.write(s),
): Promise<{ ok: boolean; outPath: string; reportPath?: string }> {
  const path = resolve(o.notebook);
  const nb = readNotebook(path);
  const name = basename(path, extname(path));
  const outPath = resolve(o.out ?? join("out", `${name}.ipynb`));
  const stderr: string[] = [];
  const client = await KernelClient.start({ cwd: dirname(path), onStderr: (s) => stderr.push(s) });
  let ok = true;
  try {
    const info = (await client.request("shell", "kernel_info_request", {})).reply.content;
    nb.metadata.kernelspec = {
      name: "halo",
      display_name: "Halo (TypeScript)",
      language: "typescript",
    };
    nb.metadata.language_info = info.language_info;
    let index = 0;
    for (const cell of nb.cells) {
      index++;
      if (cell.cell_type !== "code") continue;
      const code = sourceText(cell);
      const collector = new OutputCollector();
      const started = Date.now();
      const exchange = client.execute(code, { onIopub: (m) => collector.add(m) });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = o.timeoutS
        ? new Promise<"timeout">(
            (r) => (timer = setTimeout(() => r("timeout"), o.timeoutS! * 1000)),
          )
        : new Promise<never>(() => {});
      let result = await Promise.race([exchange, timedOut]);
      if (result === "timeout") {
        log(`cell ${index}: over ${o.timeoutS} s: interrupting\n`);
        void client.request("control", "interrupt_request", {});
        result = await exchange;
      }
      clearTimeout(timer);
      cell.outputs = collector.outputs;
      cell.execution_count = (result.reply.content.execution_count as number | undefined) ?? null;
      const status = result.reply.content.status;
      log(`cell ${index} [${cell.execution_count}]: ${status} (${Date.now() - started} ms)\n`);
      if (status !== "ok") {
        ok = false;
        log(
          `halo run: cell ${index} failed: ${String(result.reply.content.ename)}: ${String(result.reply.content.evalue)}\n`,
        );
        break;
      }
    }
  } finally {
    const code = await client.shutdown();
    if (code !== 0 && code !== null) log(`kernel exited with ${code}:\n${stderr.join("")}`);
  }
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify(nb, null, 1)}\n`);
  let reportPath: string | undefined;
  if (o.report) {
    reportPath = outPath.replace(/\.ipynb$/, "") + ".html";
    writeFileSync(reportPath, await renderReport(nb, name));
  }
  return { ok, outPath, reportPath };
}

export async function run(args: string[]): Promise<number> {
  const options = parseRunArgs(args);
  const r = await runNotebook(options);
  process.stdout.write(`wrote ${r.outPath}\n`);
  if (r.reportPath) process.stdout.write(`wrote ${r.reportPath}\n`);
  return r.ok ? 0 : 1;
}
