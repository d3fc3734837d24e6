// A small Jupyter client of our own (no Python): starts a Halo kernel with a fresh connection
// file, talks to it over ZeroMQ, and collects each request's reply and iopub messages up to its
// idle. Used by `halo run`, the fuzz test and the kernel benchmark.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KERNEL_DIR } from "../paths.ts";
import * as zmq from "zeromq";
import type { Channel, Message } from "../protocol/messages.ts";
import type { ConnectionInfo } from "../transport/connection.ts";
import { makeHeader, parseFrames, serializeMessage, Signer } from "../transport/wire.ts";
import { SocketQueue } from "../transport/socket-queue.ts";
import { esbuildSessionEnv } from "../esbuild-session.ts";

// The fast launcher (a prebuilt bundle, no tsx at start): see kernel/launch.mjs.
const LAUNCH = join(KERNEL_DIR, "launch.mjs");

export interface StartOptions {
  /** The kernel's working folder (a notebook's folder). */
  cwd?: string;
  /** Command to start the kernel; `{connection_file}` is replaced. Default: this Halo. */
  argv?: string[];
  env?: Record<string, string>;
  /** Kernel stderr goes here (default: ignored unless HALO_DEBUG). */
  onStderr?: (text: string) => void;
  startTimeoutMs?: number;
}

export interface Exchange {
  reply: Message;
  /** iopub messages whose parent is the request, from busy to idle. */
  iopub: Message[];
}

interface Waiter {
  /** Resolve on the reply alone (kernels that publish no idle, or a missed one). */
  replyOnly?: boolean;
  reply?: Message;
  iopub: Message[];
  idle: boolean;
  resolve(e: Exchange): void;
  onIopub?: (m: Message) => void;
  onStdin?: (m: Message) => void;
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const s = createServer();
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export class KernelClient {
  readonly session = randomUUID();
  readonly #signer: Signer;
  readonly #waiters = new Map<string, Waiter>();
  readonly #sockets: {
    shell: zmq.Dealer;
    control: zmq.Dealer;
    stdin: zmq.Dealer;
    iopub: zmq.Subscriber;
  };
  readonly #queues: Record<"shell" | "control" | "stdin", SocketQueue>;
  #closed = false;
  /** Resolves with the kernel's exit code. */
  readonly exited: Promise<number | null>;

  private constructor(
    readonly info: ConnectionInfo,
    readonly process: ChildProcess,
    private readonly dir: string,
  ) {
    this.#signer = new Signer(info.key, info.signature_scheme);
    const url = (port: number) => `tcp://${info.ip}:${port}`;
    this.#sockets = {
      shell: new zmq.Dealer({ linger: 0, routingId: `shell-${this.session}` }),
      control: new zmq.Dealer({ linger: 0, routingId: `control-${this.session}` }),
      stdin: new zmq.Dealer({ linger: 0, routingId: `stdin-${this.session}` }),
      iopub: new zmq.Subscriber({ linger: 0 }),
    };
    this.#sockets.shell.connect(url(info.shell_port));
    this.#sockets.control.connect(url(info.control_port));
    this.#sockets.stdin.connect(url(info.stdin_port));
    this.#sockets.iopub.connect(url(info.iopub_port));
    this.#sockets.iopub.subscribe();
    const onError = (e: Error) => {
      if (!this.#closed) throw e;
    };
    this.#queues = {
      shell: new SocketQueue(this.#sockets.shell, onError),
      control: new SocketQueue(this.#sockets.control, onError),
      stdin: new SocketQueue(this.#sockets.stdin, onError),
    };
    for (const ch of ["shell", "control", "stdin", "iopub"] as const) void this.#listen(ch);
    this.exited = new Promise((resolve) => process.on("exit", (code) => resolve(code)));
  }

  static async start(options: StartOptions = {}): Promise<KernelClient> {
    const client = await KernelClient.launch(options);
    await client.waitReady(options.startTimeoutMs ?? 30_000);
    return client;
  }

  /** Starts the kernel process and connects, without waiting for it to answer. */
  static async launch(options: StartOptions = {}): Promise<KernelClient> {
    const dir = mkdtempSync(join(tmpdir(), "halo-client-"));
    const [shell_port, control_port, iopub_port, stdin_port, hb_port] = await freePorts(5);
    const info: ConnectionInfo = {
      transport: "tcp",
      ip: "127.0.0.1",
      shell_port: shell_port!,
      control_port: control_port!,
      iopub_port: iopub_port!,
      stdin_port: stdin_port!,
      hb_port: hb_port!,
      key: randomBytes(16).toString("hex"),
      signature_scheme: "hmac-sha256",
    };
    const file = join(dir, "kernel.json");
    writeFileSync(file, JSON.stringify(info));
    const argv = (options.argv ?? [process.execPath, LAUNCH, "-f", "{connection_file}"]).map((a) =>
      a.replace("{connection_file}", file),
    );
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      // As jupyter_client does: the kernel exits by itself if this process dies.
      env: {
        ...process.env,
        ...esbuildSessionEnv(),
        JPY_PARENT_PID: String(process.pid),
        ...options.env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (d: Buffer) => {
      if (options.onStderr) options.onStderr(d.toString());
      else if (process.env.HALO_DEBUG) process.stderr.write(d);
    });
    return new KernelClient(info, child, dir);
  }

  /** Sends kernel_info_request until one is answered and its iopub idle arrives (a subscriber
   *  that connects late misses early iopub messages: ZeroMQ's slow-joiner). */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline && !exited) {
      const got = await Promise.race([
        this.request("shell", "kernel_info_request", {}),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 500)),
      ]);
      if (got && got.iopub.some((m) => m.header.msg_type === "status")) return;
    }
    this.kill();
    throw new Error(
      exited
        ? "the kernel exited before it answered kernel_info_request"
        : `the kernel did not answer kernel_info_request within ${timeoutMs} ms`,
    );
  }

  /** Sends a request and resolves when both its reply and its iopub idle have arrived. */
  request(
    channel: "shell" | "control",
    msgType: string,
    content: Record<string, unknown>,
    hooks: {
      onIopub?: (m: Message) => void;
      onStdin?: (m: Message) => void;
      replyOnly?: boolean;
    } = {},
  ): Promise<Exchange> {
    const header = makeHeader(msgType, this.session, "halo-client");
    const done = new Promise<Exchange>((resolve) =>
      this.#waiters.set(header.msg_id, { iopub: [], idle: false, resolve, ...hooks }),
    );
    void this.#queues[channel].send(
      serializeMessage(
        { identities: [], header, parent_header: {}, metadata: {}, content },
        this.#signer,
      ),
    );
    return done;
  }

  execute(
    code: string,
    options: {
      allowStdin?: boolean;
      onIopub?: (m: Message) => void;
      onStdin?: (m: Message) => void;
      replyOnly?: boolean;
    } = {},
  ): Promise<Exchange> {
    return this.request(
      "shell",
      "execute_request",
      {
        code,
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: options.allowStdin ?? false,
        stop_on_error: true,
      },
      options,
    );
  }

  /** Answers an input_request. */
  sendInput(value: string, parent: Message): void {
    const header = makeHeader("input_reply", this.session, "halo-client");
    void this.#queues.stdin.send(
      serializeMessage(
        { identities: [], header, parent_header: parent.header, metadata: {}, content: { value } },
        this.#signer,
      ),
    );
  }

  /** Raw frames, for malformed-message tests. */
  sendRaw(channel: "shell" | "control" | "stdin", frames: Buffer[]): Promise<void> {
    return this.#queues[channel].send(frames);
  }

  /** A correctly signed message with arbitrary header/content, for tests. */
  sendSigned(
    channel: "shell" | "control",
    msgType: string,
    content: unknown,
    extraFrames: Buffer[] = [],
  ): Promise<void> {
    const header = makeHeader(msgType, this.session, "halo-client");
    return this.#queues[channel].send(
      serializeMessage(
        {
          identities: [],
          header,
          parent_header: {},
          metadata: {},
          content: content as Record<string, unknown>,
          buffers: extraFrames,
        },
        this.#signer,
      ),
    );
  }

  signer(): Signer {
    return this.#signer;
  }

  async #listen(channel: Channel): Promise<void> {
    const socket = this.#sockets[channel];
    try {
      for await (const frames of socket as AsyncIterable<Buffer[]>) {
        const parsed = parseFrames(frames, this.#signer);
        if (!parsed.ok) continue;
        const msg = parsed.message;
        const waiter = this.#waiters.get(String(msg.parent_header.msg_id ?? ""));
        if (!waiter) continue;
        if (channel === "iopub") {
          waiter.iopub.push(msg);
          waiter.onIopub?.(msg);
          if (msg.header.msg_type === "status" && msg.content.execution_state === "idle")
            waiter.idle = true;
        } else if (channel === "stdin") {
          waiter.onStdin?.(msg);
          continue;
        } else waiter.reply = msg;
        if (waiter.reply && (waiter.idle || waiter.replyOnly)) {
          this.#waiters.delete(String(msg.parent_header.msg_id));
          waiter.resolve({ reply: waiter.reply, iopub: waiter.iopub });
        }
      }
    } catch (err) {
      if (!this.#closed) throw err;
    }
  }

  /** shutdown_request on control; waits for the kernel to exit (killed after `timeoutMs`). */
  async shutdown(timeoutMs = 5000): Promise<number | null> {
    if (this.process.exitCode === null) {
      void this.request("control", "shutdown_request", { restart: false });
      const timer = setTimeout(() => this.kill(), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.close();
    return this.process.exitCode;
  }

  kill(): void {
    if (this.process.exitCode === null) this.process.kill("SIGKILL");
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of Object.values(this.#sockets)) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
