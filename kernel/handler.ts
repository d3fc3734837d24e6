// The protocol handler: one method per request type. Every request is answered (with `status`
// in the reply) and wrapped in iopub busy ... idle; outputs are children of the request, and
// nothing for a request is sent after its idle. Shell requests run one at a time in arrival
// order; control requests are handled at once, even while a cell is awaiting.
import type {
  Channel,
  CompleteRequest,
  ExecuteRequest,
  Header,
  HistoryRequest,
  InspectRequest,
  Message,
  ShutdownRequest,
} from "./protocol/messages.ts";
import { kernelInfoContent } from "./protocol/kernel-info.ts";
import { makeHeader } from "./transport/wire.ts";
import type { Outbox } from "./transport/outbox.ts";
import { Executor } from "./executor/executor.ts";
import type { CellContext, ExecutorHost } from "./executor/executor.ts";
import { History } from "./history.ts";
import { LateOutput } from "./late-output.ts";
import { checkComplete } from "./is-complete.ts";
import type { LanguageTools } from "./language/tools.ts";
import { isWorkerFailure, startLanguageWorker } from "./language/remote.ts";
import { codePointsToUtf16, utf16ToCodePoints } from "./protocol/cursor.ts";

export interface HandlerOptions {
  session: string;
  /** Called after shutdown_reply is sent. */
  onShutdown?: (restart: boolean) => void;
  notebookDir?: string;
  /** Loads the TypeScript language service (default: on its own worker thread, see
   *  language/remote.ts; its first use costs 3.5-4.6 s of CPU). */
  loadLanguage?: () => Promise<LanguageTools>;
  log?: (text: string) => void;
  /** Tells the transport whether SIGINT would land in synchronous cell code. */
  setInSyncCode?: (inSync: boolean) => void;
  /** False when started from the bundle without tsx (see executor/src-bridge.ts). */
  tsxRegistered?: boolean;
}

type Handler = (msg: Message, channel: Channel) => Promise<void> | void;

export class KernelHandler {
  readonly executor: Executor;
  readonly history = new History();
  executionCount = 0;
  #queue: { channel: Channel; msg: Message }[] = [];
  #draining = false;
  #cellSeq = 0;
  #language: Promise<LanguageTools> | undefined;
  #warmAfterMs: number | undefined;
  /** Output of callbacks whose cell had finished while no cell was executing. */
  readonly #late = new LateOutput();
  #warmTimer: ReturnType<typeof setTimeout> | undefined;
  /** Sources of cells that ran without error, for the language service's view of the notebook. */
  readonly cellSources: string[] = [];
  readonly #log: (text: string) => void;

  constructor(
    readonly outbox: Outbox,
    readonly options: HandlerOptions,
  ) {
    this.#log = options.log ?? ((t) => process.stderr.write(`[halo kernel] ${t}\n`));
    const host: ExecutorHost = {
      publish: (cell, msgType, content) => {
        const to = this.#openCell(cell);
        if (to) this.#iopub(msgType, content, to.parent);
        else this.#late.hold({ kind: "message", msgType, content });
      },
      stream: (cell, name, text) => {
        const to = this.#openCell(cell);
        if (to) this.outbox.stream(to.parent, name, text);
        else this.#late.hold({ kind: "stream", name, text });
      },
      requestInput: (cell, prompt, password) =>
        this.outbox.readInput(() =>
          this.outbox.send("stdin", {
            identities: cell.identities,
            header: makeHeader("input_request", options.session),
            parent_header: cell.parent,
            metadata: {},
            content: { prompt, password },
          }),
        )?.value,
      setInSyncCode: (inSync) => options.setInSyncCode?.(inSync),
      log: this.#log,
    };
    this.executor = new Executor(host, options.notebookDir, options.tsxRegistered ?? true);
  }

  /** Entry point from the transport. */
  receive(channel: Channel, msg: Message): void {
    if (channel === "control") {
      void this.#dispatch(channel, msg);
      return;
    }
    this.#queue.push({ channel, msg });
    if (!this.#draining) void this.#drain();
  }

  /** Resolves when every queued shell request has been answered (tests). */
  async idle(): Promise<void> {
    while (this.#draining || this.#queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const { channel, msg } = this.#queue.shift()!;
        await this.#dispatch(channel, msg);
      }
    } finally {
      this.#draining = false;
      this.#armWarmup();
    }
  }

  /** Warms the language service once no shell request has run for `ms` (a Tab pressed later
   *  then answers in milliseconds, not seconds). Every drained queue restarts the wait, so the
   *  warm-up never starts between the cells of a "run all". */
  warmLanguageWhenIdle(ms: number): void {
    this.#warmAfterMs = ms;
    this.#armWarmup();
  }

  #armWarmup(): void {
    clearTimeout(this.#warmTimer);
    if (this.#warmAfterMs === undefined || this.#language) return;
    this.#warmTimer = setTimeout(() => {
      if (this.#draining || this.#language) return; // the drain re-arms it
      const t0 = performance.now();
      void this.#languageTools()
        .then((t) => t.warm?.())
        .then(() => this.#log(`language service warm in ${Math.round(performance.now() - t0)} ms`))
        .catch((err: unknown) => this.#log(`warming the language service failed: ${String(err)}`));
    }, this.#warmAfterMs);
    this.#warmTimer.unref();
  }

  /**
   * A Map, not an object literal: msg_type comes off the wire, and `__proto__`, `constructor` or
   * `toString` looked up on a plain object find Object.prototype's members, not "no handler".
   */
  readonly #handlers = new Map<string, Handler>(
    Object.entries({
      kernel_info_request: (m, c) => this.#reply(c, m, "kernel_info_reply", kernelInfoContent()),
      execute_request: (m, c) => this.execute(m as unknown as Message<ExecuteRequest>, c),
      complete_request: (m, c) => this.complete(m as unknown as Message<CompleteRequest>, c),
      inspect_request: (m, c) => this.inspect(m as unknown as Message<InspectRequest>, c),
      is_complete_request: (m, c) =>
        this.#reply(c, m, "is_complete_reply", checkComplete(String(m.content.code ?? ""))),
      history_request: (m, c) =>
        this.#reply(c, m, "history_reply", {
          status: "ok",
          history: this.history.query(m.content as HistoryRequest),
        }),
      comm_info_request: (m, c) =>
        this.#reply(c, m, "comm_info_reply", { status: "ok", comms: {} }),
      comm_open: (m) => {
        // No comm targets are registered: close it at once so the frontend does not wait.
        this.#log(`comm_open for unknown target '${String(m.content.target_name)}': closed`);
        this.#iopub("comm_close", { comm_id: m.content.comm_id, data: {} }, m.header);
      },
      comm_msg: (m) =>
        this.#log(`comm_msg for unknown comm '${String(m.content.comm_id)}' ignored`),
      comm_close: () => {},
      interrupt_request: (m, c) => {
        this.executor.interrupt();
        this.#reply(c, m, "interrupt_reply", { status: "ok" });
      },
      shutdown_request: (m, c) => this.shutdown(m as unknown as Message<ShutdownRequest>, c),
    } satisfies Record<string, Handler>),
  );

  async #dispatch(channel: Channel, msg: Message): Promise<void> {
    const handler = this.#handlers.get(msg.header.msg_type);
    this.#iopub("status", { execution_state: "busy" }, msg.header);
    try {
      if (!handler) {
        this.#log(`unknown message type '${msg.header.msg_type}' on ${channel}: ignored`);
      } else await handler(msg, channel);
    } catch (err) {
      // A bug of ours must not leave the client waiting: answer with an error reply.
      this.#log(`error handling ${msg.header.msg_type}: ${(err as Error).stack ?? String(err)}`);
      if (msg.header.msg_type.endsWith("_request")) {
        this.#reply(channel, msg, msg.header.msg_type.replace(/_request$/, "_reply"), {
          status: "error",
          ename: "KernelError",
          evalue: (err as Error).message ?? String(err),
          traceback: [],
        });
      }
    } finally {
      this.#iopub("status", { execution_state: "idle" }, msg.header);
    }
  }

  async execute(msg: Message<ExecuteRequest>, channel: Channel): Promise<void> {
    const c = msg.content;
    const code = typeof c.code === "string" ? c.code : "";
    const silent = c.silent === true;
    const storeHistory = silent ? false : c.store_history !== false;
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) this.#iopub("execute_input", { code, execution_count: count }, msg.header);
    if (storeHistory) this.history.record(count, code);
    // Not into a silent execute: frontends send those for their own purposes and drop its output.
    if (!silent)
      this.#late.flush((item) =>
        item.kind === "stream"
          ? this.outbox.stream(msg.header, item.name, item.text)
          : this.#iopub(item.msgType, item.content, msg.header),
      );

    const payload: unknown[] = [];
    const page = /^\s*([\w$.]+)\s*\?\s*$/.exec(code);
    let outcome;
    if (page) {
      const info = await this.#withLanguage((t) =>
        t.inspect(this.cellSources, page[1]!, page[1]!.length, 1),
      );
      payload.push({
        source: "page",
        data: info.found ? info.data : { "text/plain": `${page[1]}: nothing known` },
        start: 0,
      });
      outcome = { status: "ok" as const, result: undefined };
    } else {
      const seq = ++this.#cellSeq;
      const cell: CellContext = {
        seq,
        label: storeHistory ? `In[${count}]` : `<cell ${seq}>`,
        parent: msg.header,
        identities: msg.identities,
        allowStdin: c.allow_stdin !== false,
        controller: new AbortController(),
        startedAt: Date.now(),
        done: false,
      };
      outcome = await this.executor.run(code, cell);
    }

    if (outcome.status === "ok") {
      this.cellSources.push(code);
      if (outcome.result && !silent) {
        this.#iopub(
          "execute_result",
          { execution_count: count, data: outcome.result, metadata: {} },
          msg.header,
        );
        const text = outcome.result["text/plain"];
        if (storeHistory && typeof text === "string") this.history.setOutput(count, text);
      }
      // Names come off the wire: a null prototype keeps `__proto__` an ordinary key.
      const userExpressions: Record<string, unknown> = Object.create(null);
      for (const [name, expr] of Object.entries(c.user_expressions ?? {}))
        userExpressions[name] = this.executor.evaluateExpression(String(expr));
      this.#reply(channel, msg, "execute_reply", {
        status: "ok",
        execution_count: count,
        payload,
        user_expressions: userExpressions,
      });
      return;
    }
    const error = outcome.error;
    this.#iopub("error", { ...error }, msg.header);
    this.#reply(channel, msg, "execute_reply", {
      status: "error",
      execution_count: count,
      ...error,
      user_expressions: {},
      payload: [],
    });
    if (c.stop_on_error !== false) this.#abortQueuedExecutes();
  }

  /** After an error, execute requests already queued are answered 'aborted' (as ipykernel does),
   *  so "run all" stops at the failing cell. */
  #abortQueuedExecutes(): void {
    const keep: { channel: Channel; msg: Message }[] = [];
    const aborted = this.#queue.filter((q) => q.msg.header.msg_type === "execute_request");
    for (const q of this.#queue) if (q.msg.header.msg_type !== "execute_request") keep.push(q);
    this.#queue = keep;
    for (const { channel, msg } of aborted) {
      this.#iopub("status", { execution_state: "busy" }, msg.header);
      this.#reply(channel, msg, "execute_reply", {
        status: "aborted",
        execution_count: this.executionCount,
      });
      this.#iopub("status", { execution_state: "idle" }, msg.header);
    }
  }

  async complete(msg: Message<CompleteRequest>, channel: Channel): Promise<void> {
    const code = String(msg.content.code ?? "");
    const cursor = codePointsToUtf16(code, Number(msg.content.cursor_pos ?? code.length));
    const r = await this.#withLanguage((t) => t.complete(this.cellSources, code, cursor));
    this.#reply(channel, msg, "complete_reply", {
      status: "ok",
      matches: r.matches,
      cursor_start: utf16ToCodePoints(code, r.start),
      cursor_end: utf16ToCodePoints(code, r.end),
      metadata: r.metadata ?? {},
    });
  }

  async inspect(msg: Message<InspectRequest>, channel: Channel): Promise<void> {
    const code = String(msg.content.code ?? "");
    const cursor = codePointsToUtf16(code, Number(msg.content.cursor_pos ?? code.length));
    const detail = Number(msg.content.detail_level ?? 0);
    const r = await this.#withLanguage((t) => t.inspect(this.cellSources, code, cursor, detail));
    this.#reply(channel, msg, "inspect_reply", {
      status: "ok",
      found: r.found,
      data: r.found ? r.data : {},
      metadata: {},
    });
  }

  shutdown(msg: Message<ShutdownRequest>, channel: Channel): void {
    const restart = msg.content.restart === true;
    this.#reply(channel, msg, "shutdown_reply", { status: "ok", restart });
    // After idle (sent by #dispatch's finally), so give it a turn of the event loop.
    setImmediate(() => this.options.onShutdown?.(restart));
  }

  /** Where a cell's output goes: the cell itself while it executes, else the cell executing
   *  now; undefined when none is (late-output.ts says why it is then held). */
  #openCell(cell: CellContext | undefined): CellContext | undefined {
    if (cell && !cell.done) return cell;
    const running = this.executor.running;
    return running && !running.done ? running : undefined;
  }

  #languageTools(): Promise<LanguageTools> {
    clearTimeout(this.#warmTimer);
    this.#language ??= (
      this.options.loadLanguage ?? (async () => startLanguageWorker(this.options.notebookDir))
    )();
    return this.#language;
  }

  /** A request to the language service; a dead worker is replaced on the next request. */
  async #withLanguage<T>(use: (tools: LanguageTools) => Promise<T>): Promise<T> {
    try {
      return await use(await this.#languageTools());
    } catch (err) {
      if (isWorkerFailure(err)) this.#language = undefined;
      throw err;
    }
  }

  #reply(
    channel: Channel,
    request: Pick<Message, "identities" | "header">,
    msgType: string,
    content: Record<string, unknown>,
  ): void {
    this.outbox.send(channel, {
      identities: request.identities,
      header: makeHeader(msgType, this.options.session),
      parent_header: request.header,
      metadata: {},
      content,
    });
  }

  #iopub(msgType: string, content: Record<string, unknown>, parent: Partial<Header>): void {
    this.outbox.send("iopub", {
      identities: [Buffer.from(msgType)],
      header: makeHeader(msgType, this.options.session),
      parent_header: parent,
      metadata: {},
      content,
    });
  }
}
