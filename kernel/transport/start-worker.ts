// Starts the transport worker. The worker's TypeScript is bundled once by esbuild into
// `.cache/kernel/` (a plain worker starts in about 60 ms; one that registers tsx itself took
// about 240 ms, a quarter of the 1 s start budget). When the cache cannot be written, it falls
// back to registering tsx inside the worker.
import { Worker, MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { mkdirSync, renameSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { HALO_ROOT, KERNEL_DIR } from "../paths.ts";
import type { Channel, Header } from "../protocol/messages.ts";
import type { ToMain, ToWorker, WireMessage, WorkerData } from "./bridge-types.ts";
import { INPUT_READY, INPUT_WAITING, SLOT_IN_SYNC, SLOT_INPUT } from "./bridge-types.ts";
import type { Outbox } from "./outbox.ts";

const here = join(KERNEL_DIR, "transport");
const root = HALO_ROOT;
const entry = join(here, "worker.ts");

function newestSourceMs(): number {
  let newest = 0;
  for (const name of readdirSync(here))
    newest = Math.max(newest, statSync(join(here, name)).mtimeMs);
  newest = Math.max(newest, statSync(join(here, "..", "protocol", "messages.ts")).mtimeMs);
  return newest;
}

async function bundledWorker(): Promise<URL | undefined> {
  const out = join(root, ".cache", "kernel", "transport-worker.mjs");
  try {
    if (statSync(out).mtimeMs >= newestSourceMs()) return pathToFileURL(out);
  } catch {
    // not built yet
  }
  try {
    const esbuild = await import("esbuild");
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      write: false,
    });
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, result.outputFiles[0]!.contents);
    renameSync(tmp, out); // atomic: two kernels starting together never see half a file
    return pathToFileURL(out);
  } catch {
    return undefined;
  }
}

export interface TransportHandle {
  outbox: Outbox;
  setInSyncCode(inSync: boolean): void;
  ready: Promise<void>;
  close(): Promise<void>;
}

export async function startTransport(
  connectionFile: string,
  session: string,
  onMessage: (m: ToMain) => void,
): Promise<TransportHandle> {
  const flagBuffer = new SharedArrayBuffer(8);
  const flag = new Int32Array(flagBuffer);
  const { port1, port2 } = new MessageChannel();
  const workerData: WorkerData = { connectionFile, session, flag: flagBuffer, stdinPort: port2 };
  const bundled = await bundledWorker();
  const worker = bundled
    ? new Worker(bundled, { workerData, transferList: [port2] })
    : new Worker(
        `import(${JSON.stringify(pathToFileURL(join(root, "node_modules/tsx/dist/esm/api/index.mjs")).href)}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })`,
        { eval: true, workerData, transferList: [port2] },
      );
  let markReady!: () => void;
  let failReady!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  worker.on("message", (m: ToMain) => {
    if (m.type === "ready") markReady();
    else if (m.type === "closed") markClosed();
    else onMessage(m);
  });
  worker.on("error", (err) => {
    failReady(err);
    process.stderr.write(`[halo kernel] transport failed: ${err.stack ?? err.message}\n`);
    markClosed();
  });
  worker.on("exit", () => markClosed());
  const post = (m: ToWorker) => worker.postMessage(m);

  const outbox: Outbox = {
    send(channel: Channel, message: WireMessage) {
      post({ type: "send", channel, message });
    },
    stream(parent: Partial<Header>, name: "stdout" | "stderr", text: string) {
      post({ type: "stream", parent, name, text });
    },
    readInput(sendRequest: () => void) {
      // Drop a reply left over from an earlier, interrupted request.
      while (receiveMessageOnPort(port1)) {}
      Atomics.store(flag, SLOT_INPUT, INPUT_WAITING);
      sendRequest();
      for (;;) {
        Atomics.wait(flag, SLOT_INPUT, INPUT_WAITING, 1000);
        const got = receiveMessageOnPort(port1);
        if (got) {
          const content = got.message as { value?: unknown };
          return { value: typeof content.value === "string" ? content.value : "" };
        }
        const state = Atomics.load(flag, SLOT_INPUT);
        if (state !== INPUT_WAITING && state !== INPUT_READY) return undefined;
      }
    },
  };
  return {
    outbox,
    setInSyncCode: (inSync) => Atomics.store(flag, SLOT_IN_SYNC, inSync ? 1 : 0),
    ready,
    async close() {
      post({ type: "close" });
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      await worker.terminate();
    },
  };
}
