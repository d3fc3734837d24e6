// The handler without ZeroMQ: requests in, the messages it sends recorded.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KernelHandler } from "../../kernel/handler.ts";
import { makeHeader } from "../../kernel/transport/wire.ts";
import type { Channel, Message } from "../../kernel/protocol/messages.ts";
import { RecordingOutbox } from "./fake-outbox.ts";
import { captureOutput } from "../../kernel/executor/capture-output.ts";

const outbox = new RecordingOutbox();
const logs: string[] = [];
const handler = new KernelHandler(outbox, { session: "s1", log: (t) => logs.push(t) });
// Cell output is captured as in the kernel; uvu's own report (written outside any cell's async
// context while no cell runs) goes to the original stdout, else the kernel would hold it as
// late output for the next cell.
const uvuWrite = process.stdout.write.bind(process.stdout);
const restore = captureOutput(handler.executor);
const cellWrite = process.stdout.write;
process.stdout.write = ((...args: Parameters<typeof uvuWrite>) =>
  handler.executor.cells.getStore() || handler.executor.running
    ? cellWrite.apply(process.stdout, args)
    : uvuWrite(...args)) as typeof process.stdout.write;
test.after(() => restore());
// As kernel/main.ts does: callbacks' errors go to the executor, never kill the process.
process.on("uncaughtException", (err) => handler.executor.reportUncaught(err));

async function send(msgType: string, content: Record<string, unknown>, channel: Channel = "shell") {
  const msg: Message = {
    identities: [Buffer.from("peer")],
    header: makeHeader(msgType, "client"),
    parent_header: {},
    metadata: {},
    content,
    buffers: [],
  };
  handler.receive(channel, msg);
  await handler.idle();
  // control requests are not queued: wait for their idle
  for (
    let i = 0;
    i < 200 &&
    !outbox
      .for(msg.header.msg_id)
      .some((s) => s.type === "status" && s.content.execution_state === "idle");
    i++
  )
    await new Promise((r) => setTimeout(r, 5));
  const all = outbox.for(msg.header.msg_id);
  const reply = all.find((s) => s.channel !== "iopub")!;
  return { all, reply, iopub: all.filter((s) => s.channel === "iopub") };
}

const execute = (code: string, extra: Record<string, unknown> = {}) =>
  send("execute_request", {
    code,
    silent: false,
    store_history: true,
    allow_stdin: true,
    ...extra,
  });

test("kernel_info is answered on shell and control, wrapped in busy/idle", async () => {
  for (const channel of ["shell", "control"] as const) {
    const r = await send("kernel_info_request", {}, channel);
    assert.is(r.reply.type, "kernel_info_reply");
    assert.is(r.reply.channel, channel);
    assert.is(r.reply.content.status, "ok");
    assert.is(r.reply.content.protocol_version, "5.3");
    assert.is((r.reply.content.language_info as { name: string }).name, "typescript");
    assert.equal(
      r.iopub.map((s) => s.content.execution_state),
      ["busy", "idle"],
    );
  }
});

test("execute: execute_input, result, count; bindings persist and const can be re-declared", async () => {
  const a = await execute("const x: number = 40;\nx + 1");
  assert.is(a.reply.content.status, "ok");
  assert.equal(
    a.iopub.map((s) => s.type),
    ["status", "execute_input", "execute_result", "status"],
  );
  const n = a.reply.content.execution_count as number;
  assert.is((a.iopub[2]!.content.data as Record<string, string>)["text/plain"], "41");
  const b = await execute("const x = 'again'; `${x}!`");
  assert.is(b.reply.content.execution_count, n + 1);
  assert.is(
    (b.iopub.find((s) => s.type === "execute_result")!.content.data as Record<string, string>)[
      "text/plain"
    ],
    "'again!'",
  );
});

test("functions, classes and imports persist across cells", async () => {
  await execute(
    "function twice(n: number) { return n * 2 }\nclass Box { constructor(public v: number) {} }\nimport { basename } from 'node:path';",
  );
  const r = await execute("[twice(21), new Box(3).v, basename('/a/b.txt')]");
  assert.is(r.reply.content.status, "ok");
  assert.is(
    (r.iopub.find((s) => s.type === "execute_result")!.content.data as Record<string, string>)[
      "text/plain"
    ],
    "[ 42, 3, 'b.txt' ]",
  );
});

test("console output streams before idle; errors give an error message and reply", async () => {
  const r = await execute('console.log("out"); console.error("err"); throw new TypeError("bad")');
  assert.is(r.reply.content.status, "error");
  assert.is(r.reply.content.ename, "TypeError");
  assert.is(r.reply.content.evalue, "bad");
  const types = r.iopub.map((s) => s.type);
  const streams = r.iopub
    .filter((s) => s.type === "stream")
    .map((s) => `${s.content.name}:${s.content.text}`);
  assert.equal(streams, ["stdout:out\n", "stderr:err\n"]);
  assert.ok(types.indexOf("stream") < types.indexOf("error"));
  assert.is(types[types.length - 1], "status");
  const tb = (r.reply.content.traceback as string[]).join("\n");
  assert.match(tb, /In\[\d+\]:1:/);
});

test("a syntax error names the line and column", async () => {
  const r = await execute("const a = 1;\nconst = 2;");
  assert.is(r.reply.content.ename, "SyntaxError");
  assert.match((r.reply.content.traceback as string[]).join("\n"), /In\[\d+\]:2:/);
});

test("display and update_display_data carry the display id", async () => {
  const r = await execute(
    'display.html("<b>x</b>", { id: "d1" }); display.html("<b>y</b>", { id: "d1", update: true });',
  );
  const d = r.iopub.filter((s) => s.type === "display_data" || s.type === "update_display_data");
  assert.equal(
    d.map((s) => s.type),
    ["display_data", "update_display_data"],
  );
  assert.equal(d[1]!.content.transient, { display_id: "d1" });
});

test("objects with Symbol.for('Jupyter.display') or toMimeBundle display richly", async () => {
  const r = await execute(
    'const a = { [Symbol.for("Jupyter.display")]() { return { "text/html": "<i>a</i>" } } };\nconst b = { toMimeBundle() { return { "text/markdown": "**b**" } } };\ndisplay(a); b',
  );
  assert.is(
    (r.iopub.find((s) => s.type === "display_data")!.content.data as Record<string, string>)[
      "text/html"
    ],
    "<i>a</i>",
  );
  assert.is(
    (r.iopub.find((s) => s.type === "execute_result")!.content.data as Record<string, string>)[
      "text/markdown"
    ],
    "**b**",
  );
});

test("input() round trip through stdin; refused without allow_stdin", async () => {
  outbox.inputs.push("Ada");
  const r = await execute('const who = input("name? "); `hi ${who}`');
  assert.ok(
    r.all.some(
      (s) => s.channel === "stdin" && s.type === "input_request" && s.content.prompt === "name? ",
    ),
  );
  assert.is(
    (r.iopub.find((s) => s.type === "execute_result")!.content.data as Record<string, string>)[
      "text/plain"
    ],
    "'hi Ada'",
  );
  const refused = await execute('input("x")', { allow_stdin: false });
  assert.is(refused.reply.content.status, "error");
  assert.match(String(refused.reply.content.evalue), /allow_stdin/);
});

test("interrupt stops a pending await and keeps state", async () => {
  await execute("let counter = 1;");
  const msg: Message = {
    identities: [],
    header: makeHeader("execute_request", "client"),
    parent_header: {},
    metadata: {},
    content: { code: "counter = 2; await new Promise(() => {});" },
    buffers: [],
  };
  handler.receive("shell", msg);
  await new Promise((r) => setTimeout(r, 100));
  await send("interrupt_request", {}, "control");
  await handler.idle();
  const reply = outbox.for(msg.header.msg_id).find((s) => s.type === "execute_reply")!;
  assert.is(reply.content.status, "error");
  assert.is(reply.content.ename, "Interrupted");
  const after = await execute("counter");
  assert.is(
    (after.iopub.find((s) => s.type === "execute_result")!.content.data as Record<string, string>)[
      "text/plain"
    ],
    "2",
  );
});

test("after an error, queued executes are aborted (stop_on_error)", async () => {
  const ids: string[] = [];
  for (const code of ["throw new Error('first')", "1", "2"]) {
    const msg: Message = {
      identities: [],
      header: makeHeader("execute_request", "client"),
      parent_header: {},
      metadata: {},
      content: { code },
      buffers: [],
    };
    ids.push(msg.header.msg_id);
    handler.receive("shell", msg);
  }
  await handler.idle();
  const statuses = ids.map(
    (id) => outbox.for(id).find((s) => s.type === "execute_reply")!.content.status,
  );
  assert.equal(statuses, ["error", "aborted", "aborted"]);
});

test("is_complete, history, comm_info, unknown types", async () => {
  assert.is(
    (await send("is_complete_request", { code: "function f() {" })).reply.content.status,
    "incomplete",
  );
  assert.is((await send("is_complete_request", { code: "1 + )" })).reply.content.status, "invalid");
  assert.is(
    (await send("is_complete_request", { code: "1 + 1" })).reply.content.status,
    "complete",
  );
  const h = await send("history_request", {
    hist_access_type: "tail",
    n: 2,
    output: false,
    raw: true,
  });
  assert.is((h.reply.content.history as unknown[]).length, 2);
  const c = await send("comm_info_request", {});
  assert.equal(c.reply.content, { status: "ok", comms: {} });
  const u = await send("no_such_request", {});
  assert.is(u.reply, undefined);
  assert.equal(
    u.iopub.map((s) => s.content.execution_state),
    ["busy", "idle"],
  );
});

test("msg_types named like Object.prototype members are unknown types, never handlers", async () => {
  logs.length = 0;
  for (const type of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) {
    const u = await send(type, {});
    assert.is(u.reply, undefined, type);
    assert.equal(
      u.iopub.map((s) => s.content.execution_state),
      ["busy", "idle"],
      type,
    );
    assert.match(logs.at(-1)!, new RegExp(`unknown message type '${type}' on shell: ignored`));
  }
  assert.not.match(logs.join("\n"), /error handling/);
  // A user expression named __proto__ is an ordinary name in the reply.
  const r = await execute("1", {
    user_expressions: JSON.parse('{"__proto__": "1 + 1", "ok": "2"}') as unknown,
  });
  const exprs = r.reply.content.user_expressions as Record<string, { status: string }>;
  assert.equal(Object.keys(exprs).sort(), ["__proto__", "ok"]);
  assert.is(JSON.parse(JSON.stringify(exprs)).__proto__.status, "ok");
  assert.is((await send("kernel_info_request", {})).reply.type, "kernel_info_reply");
});

test("complete and inspect see earlier cells", async () => {
  await execute("const earlierThing = { alpha: 1 };");
  const c = await send("complete_request", { code: "earlierThing.al", cursor_pos: 15 });
  assert.equal(c.reply.content.matches, ["alpha"]);
  assert.is(c.reply.content.cursor_start, 13);
  assert.is(c.reply.content.cursor_end, 15);
  const i = await send("inspect_request", {
    code: "earlierThing",
    cursor_pos: 12,
    detail_level: 0,
  });
  assert.is(i.reply.content.found, true);
  assert.match((i.reply.content.data as Record<string, string>)["text/plain"], /alpha: number/);
  const verbs = "const frame = new dfd.DataFrame({ a: [1] });\nframe.ag";
  const v = await send("complete_request", { code: verbs, cursor_pos: verbs.length });
  assert.equal(v.reply.content.matches, ["agent"]);
  const h = await send("complete_request", { code: "halo.la", cursor_pos: 7 });
  assert.ok((h.reply.content.matches as string[]).includes("lazy"));
  const none = await send("inspect_request", { code: "  ", cursor_pos: 1, detail_level: 0 });
  assert.is(none.reply.content.status, "ok");
  assert.is(none.reply.content.found, false);
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const streamText = (sent: { type: string; content: Record<string, unknown> }[]) =>
  sent
    .filter((s) => s.type === "stream")
    .map((s) => s.content.text)
    .join("");

test("late output goes to the next cell, never after its own cell's idle", async () => {
  const a = await execute('setTimeout(() => console.log("late"), 30); "a"');
  const sentForA = outbox.for(a.reply.parent!).length;
  await wait(150);
  // Nothing more for the finished cell: "late" is held while no cell executes.
  assert.is(outbox.for(a.reply.parent!).length, sentForA);
  const b = await execute('console.log("b own"); 2');
  const types = b.iopub.map((s) => s.type);
  assert.equal(types.slice(0, 3), ["status", "execute_input", "stream"]);
  assert.is(streamText(b.iopub), "late\nb own\n");
  assert.is(types.indexOf("stream") < types.indexOf("execute_result"), true);
  // Held only once: a third cell shows nothing from earlier cells.
  assert.is(streamText((await execute("3")).iopub), "");
});

test("late output and late errors go to the cell executing at that moment", async () => {
  await execute('setTimeout(() => { console.log("during"); display.html("<b>d</b>") }, 30); "a"');
  await execute('setTimeout(() => { throw new Error("boom later") }, 30); "a2"');
  const b = await execute("await new Promise((r) => setTimeout(r, 200)); 7");
  assert.is(b.reply.content.status, "ok");
  const text = streamText(b.iopub);
  assert.match(text, /during\n/);
  assert.match(text, /Uncaught in a callback \(from In\[\d+\]\):\n.*boom later/s);
  assert.ok(b.iopub.some((s) => s.type === "display_data"));
});

test.run();
