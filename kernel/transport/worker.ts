// The transport, on its own thread: a busy main thread (a `while (true) {}` cell) cannot read
// any socket, so heartbeat, interrupts and output streaming live here. It verifies signatures
// (a forged or replayed message is dropped with a log line, never executed), answers
// heartbeats, raises SIGINT for interrupt_request, batches stream output, forwards the rest to
// the main thread, and ends the process when the frontend that started it has died.
import { writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import * as zmq from "zeromq";
import type { Channel, Header, Message } from "../protocol/messages.ts";
import { endpoint, readConnectionFile } from "./connection.ts";
import { makeHeader, parseFrames, serializeMessage, Signer } from "./wire.ts";
import { ReplayGuard } from "./replay-guard.ts";
import { watchParent } from "./parent-watch.ts";
import { SocketQueue } from "./socket-queue.ts";
import type { ToMain, ToWorker, WireMessage, WorkerData } from "./bridge-types.ts";
import { INPUT_INTERRUPTED, INPUT_READY, SLOT_INPUT, SLOT_IN_SYNC } from "./bridge-types.ts";

const data = workerData as WorkerData;
const port = parentPort!;
const info = readConnectionFile(data.connectionFile);
const signer = new Signer(info.key, info.signature_scheme);
const flag = new Int32Array(data.flag);
const replays = new ReplayGuard();

function post(m: ToMain): void {
  port.postMessage(m);
}
function log(text: string): void {
  // A worker's process.stderr is relayed through the (possibly busy) main thread, where cell
  // output capture would take it for the cell's: write to fd 2 directly.
  try {
    writeSync(2, `[halo kernel transport] ${text}\n`);
  } catch {
    // stderr closed: nothing to do
  }
}

// Ports of 0 or a bound port that stays busy are reported by zeromq's bind error.
const shell = new zmq.Router({ linger: 0 });
const control = new zmq.Router({ linger: 0 });
const stdin = new zmq.Router({ linger: 0 });
const iopub = new zmq.Publisher({ linger: 0 });
const hb = new zmq.Reply({ linger: 0 });
const queues = {
  shell: new SocketQueue(shell, (e) => log(`shell send failed: ${e.message}`)),
  control: new SocketQueue(control, (e) => log(`control send failed: ${e.message}`)),
  stdin: new SocketQueue(stdin, (e) => log(`stdin send failed: ${e.message}`)),
  iopub: new SocketQueue(iopub, (e) => log(`iopub send failed: ${e.message}`)),
} satisfies Record<Channel, SocketQueue>;

let closing = false;

function sendNow(channel: Channel, message: WireMessage): void {
  void queues[channel].send(serializeMessage(message, signer));
}

// Stream output is batched for 20 ms (a loop printing 10^4 lines would otherwise be 10^4
// messages); any other message flushes pending text first so order is kept.
const pending = new Map<
  string,
  { parent: Partial<Header>; name: "stdout" | "stderr"; text: string }
>();
let flushTimer: NodeJS.Timeout | undefined;
function flushStreams(): void {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  for (const s of pending.values()) {
    sendNow("iopub", {
      identities: [Buffer.from(`stream.${s.name}`)],
      header: makeHeader("stream", data.session),
      parent_header: s.parent,
      metadata: {},
      content: { name: s.name, text: s.text },
    });
  }
  pending.clear();
}

port.on("message", (m: ToWorker) => {
  switch (m.type) {
    case "stream": {
      const key = `${m.parent.msg_id ?? ""}\u0000${m.name}`;
      const prev = pending.get(key);
      if (prev) prev.text += m.text;
      else {
        // Keep order across stdout/stderr interleaving: a different stream flushes the other.
        if (pending.size > 0) flushStreams();
        pending.set(key, { parent: m.parent, name: m.name, text: m.text });
      }
      flushTimer ??= setTimeout(flushStreams, 20);
      break;
    }
    case "send":
      flushStreams();
      if (m.message.header.msg_type === "execute_reply")
        openExecutes.delete(String(m.message.parent_header.msg_id));
      sendNow(m.channel, reviveWire(m.message));
      break;
    case "flush":
      flushStreams();
      break;
    case "close":
      void close();
      break;
  }
});

function reviveWire(m: WireMessage): WireMessage {
  return {
    ...m,
    identities: m.identities.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
    buffers: m.buffers?.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
  };
}

function reply(
  channel: Channel,
  request: Message,
  msgType: string,
  content: Record<string, unknown>,
): void {
  sendNow(channel, {
    identities: request.identities,
    header: makeHeader(msgType, data.session),
    parent_header: request.header,
    metadata: {},
    content,
  });
}
function publishStatus(parent: Partial<Header>, state: "busy" | "idle" | "starting"): void {
  sendNow("iopub", {
    identities: [Buffer.from("status")],
    header: makeHeader("status", data.session),
    parent_header: parent,
    metadata: {},
    content: { execution_state: state },
  });
}

let shutdownTimer: NodeJS.Timeout | undefined;

/** execute_requests handed to the main thread and not yet answered, oldest (executing) first. */
const openExecutes = new Map<string, Partial<Header>>();
const INTERRUPT_GRACE_MS = 2000;
const STUCK_TEXT =
  "[halo] The interrupt did not stop this cell within 2 s. It is most likely a synchronous loop " +
  "after an `await`, which Node cannot interrupt (only code before the first `await` can be). " +
  "Restart the kernel to stop it (variables are lost).\n";

/** An interrupt that has not ended the executing cell within 2 s will not: say so in the cell
 *  (the main thread is stuck, so only this thread can), rather than leave the user waiting. */
function watchInterrupt(): void {
  const [msgId, parent] = openExecutes.entries().next().value ?? [];
  if (msgId === undefined || parent === undefined) return;
  setTimeout(() => {
    if (openExecutes.keys().next().value !== msgId) return; // it ended
    flushStreams();
    sendNow("iopub", {
      identities: [Buffer.from("stream.stderr")],
      header: makeHeader("stream", data.session),
      parent_header: parent,
      metadata: {},
      content: { name: "stderr", text: STUCK_TEXT },
    });
  }, INTERRUPT_GRACE_MS).unref();
}

function onRequest(channel: Channel, frames: Buffer[]): void {
  const parsed = parseFrames(frames, signer);
  if (!parsed.ok) {
    log(`dropped a ${channel} message: ${parsed.reason}`);
    return;
  }
  const msg = parsed.message;
  if (signer.enabled && !replays.admit(parsed.signature)) {
    log(`dropped a ${channel} ${msg.header.msg_type}: a replay of a message already received`);
    return;
  }
  if (channel === "control" && msg.header.msg_type === "interrupt_request") {
    // Answered here: the main thread may be stuck in user code. SIGINT stops a synchronous
    // cell (vm breakOnSigint); the message wakes a pending await or a blocked input().
    publishStatus(msg.header, "busy");
    Atomics.store(flag, SLOT_INPUT, INPUT_INTERRUPTED);
    Atomics.notify(flag, SLOT_INPUT);
    post({ type: "interrupt", at: Date.now() });
    if (Atomics.load(flag, SLOT_IN_SYNC) === 1) process.kill(process.pid, "SIGINT");
    reply("control", msg, "interrupt_reply", { status: "ok" });
    publishStatus(msg.header, "idle");
    watchInterrupt();
    return;
  }
  if (channel === "stdin") {
    if (msg.header.msg_type === "input_reply") {
      data.stdinPort.postMessage(msg.content);
      Atomics.store(flag, SLOT_INPUT, INPUT_READY);
      Atomics.notify(flag, SLOT_INPUT);
    } else log(`ignored a stdin message of type '${msg.header.msg_type}'`);
    return;
  }
  if (msg.header.msg_type === "shutdown_request") {
    // If the main thread is stuck and cannot answer, end the process anyway after 3 s
    // (jupyter_client kills a kernel that has not exited 5 s after asking).
    shutdownTimer ??= setTimeout(() => {
      log("main thread did not shut down within 3 s: terminating");
      terminate();
    }, 3000);
  }
  if (channel === "shell" && msg.header.msg_type === "execute_request")
    openExecutes.set(msg.header.msg_id, msg.header);
  post({ type: "request", channel, message: msg });
}

async function serve(socket: zmq.Router, channel: Channel): Promise<void> {
  try {
    for await (const frames of socket) {
      try {
        onRequest(channel, frames);
      } catch (err) {
        log(`error handling a ${channel} message: ${(err as Error).stack}`);
      }
    }
  } catch (err) {
    if (!closing) log(`${channel} socket failed: ${(err as Error).message}`);
  }
}

async function heartbeat(): Promise<void> {
  try {
    for await (const frames of hb) await hb.send(frames);
  } catch (err) {
    if (!closing) log(`heartbeat failed: ${(err as Error).message}`);
  }
}

/** Ends the process from this thread, which works even while the main thread is stuck. */
function terminate(): void {
  void close().then(() => process.kill(process.pid, "SIGKILL"));
}

async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  flushStreams();
  await Promise.race([
    Promise.all(Object.values(queues).map((q) => q.drain())),
    new Promise((r) => setTimeout(r, 500)),
  ]);
  for (const s of [shell, control, stdin, iopub, hb]) s.close();
  if (shutdownTimer) clearTimeout(shutdownTimer);
  post({ type: "closed" });
}

await Promise.all([
  shell.bind(endpoint(info, info.shell_port)),
  control.bind(endpoint(info, info.control_port)),
  stdin.bind(endpoint(info, info.stdin_port)),
  iopub.bind(endpoint(info, info.iopub_port)),
  hb.bind(endpoint(info, info.hb_port)),
]);
void serve(shell, "shell");
void serve(control, "control");
void serve(stdin, "stdin");
void heartbeat();
watchParent((pid) => {
  log(`the process that started this kernel (pid ${pid}) is gone: exiting`);
  terminate();
});
publishStatus({}, "starting");
post({ type: "ready" });
