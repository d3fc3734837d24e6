// `halo kernel -f CONNECTION_FILE`: what Jupyter launches. Wires the transport worker to the
// handler, routes console output of cells to iopub streams, and turns SIGINT, uncaught
// exceptions and unhandled rejections into errors on the cell that caused them, so user code
// never kills the kernel.
import { randomUUID } from "node:crypto";
import type { KernelHandler } from "./handler.ts";
import { esbuildSessionEnv } from "./esbuild-session.ts";
import { captureOutput } from "./executor/capture-output.ts";
import { closeModelThreads } from "./executor/src-bridge.ts";
import { startTransport } from "./transport/start-worker.ts";
import { reviveMessage } from "./transport/bridge-types.ts";
import type { ToMain } from "./transport/bridge-types.ts";

export function parseKernelArgs(args: string[]): { connectionFile?: string; ignored: string[] } {
  let connectionFile: string | undefined;
  const ignored: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-f" || a === "--f" || a === "--connection-file") connectionFile = args[++i];
    else if (/^--?(f|connection-file)=/.test(a)) connectionFile = a.slice(a.indexOf("=") + 1);
    // `jupyter run FILE` appends the file name; other extras are ignored too.
    else ignored.push(a);
  }
  return { connectionFile, ignored };
}

/** `halo kernel` (through bin/halo.js, so tsx is already registered). */
export function run(args: string[]): Promise<number> {
  return startKernel(args, { tsxRegistered: true });
}

/** Also the entry of the bundle kernel/launch.mjs starts, without tsx. */
export async function startKernel(args: string[], o: { tsxRegistered: boolean }): Promise<number> {
  const { connectionFile, ignored } = parseKernelArgs(args);
  const writeStderr = process.stderr.write.bind(process.stderr);
  const log = (text: string) => void writeStderr(`[halo kernel] ${text}\n`);
  if (!connectionFile) {
    process.stderr.write(
      "halo kernel: missing connection file: run 'halo kernel -f CONNECTION_FILE' (Jupyter passes it)\n",
    );
    return 2;
  }
  if (ignored.length) log(`ignoring arguments: ${ignored.join(" ")}`);

  // Before esbuild loads (the handler imports it): see esbuild-session.ts.
  Object.assign(process.env, esbuildSessionEnv());
  const session = randomUUID();
  let handler: KernelHandler | undefined;
  const early: ToMain[] = [];
  const onMessage = (m: ToMain) => {
    if (!handler) early.push(m);
    else if (m.type === "request") handler.receive(m.channel, reviveMessage(m.message));
    else if (m.type === "interrupt") handler.executor.interrupt(m.at);
  };
  // The worker binds the sockets on its own thread while this one loads the handler.
  const transport = await startTransport(connectionFile, session, onMessage);
  const { KernelHandler } = await import("./handler.ts");

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  handler = new KernelHandler(transport.outbox, {
    session,
    log,
    notebookDir: process.cwd(),
    setInSyncCode: transport.setInSyncCode,
    tsxRegistered: o.tsxRegistered,
    onShutdown: () => {
      // Model threads first: exiting while one is inside onnxruntime would abort the process.
      void closeModelThreads()
        .catch((err: unknown) => log(`closing model threads: ${String(err)}`))
        .then(() => transport.close())
        .then(() => finish(0));
    },
  });
  const h = handler;

  captureOutput(h.executor);
  process.on("SIGINT", () => h.executor.interrupt());
  process.on("uncaughtException", (err) => h.executor.reportUncaught(err));
  process.on("unhandledRejection", (reason) => h.executor.reportUncaught(reason));

  for (const m of early.splice(0)) onMessage(m);
  await transport.ready;
  log(`ready (session ${session}, pid ${process.pid})`);
  // After a second with no shell request: start-up and the first cells keep both cores.
  h.warmLanguageWhenIdle(1000);
  const code = await finished;
  // Sockets are closed and the workers are gone: exiting now cannot abort in zeromq's or
  // onnxruntime's teardown.
  process.exit(code);
}
