// Hostile and broken clients against a real kernel over ZeroMQ: a few thousand malformed messages
// (garbage frames, forged or bad signatures, bad JSON, missing frames, unknown types, wrongly
// typed content, huge payloads) are logged and dropped or answered, a forged one never runs; every
// correctly signed request of a known type gets its reply even with junk content; a correctly
// signed message replayed byte for byte is not executed twice; msg_types named like
// Object.prototype members are unknown types. The kernel is alive and executing at the end.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { KernelClient } from "../../kernel/client/kernel-client.ts";
import { makeHeader, serializeMessage, Signer } from "../../kernel/transport/wire.ts";

// A fixed-seed generator: a failure can be replayed.
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;

function junkJson(): unknown {
  return pick<unknown>([
    null,
    1,
    "x",
    [],
    {},
    { code: 7 },
    { code: "1 +", silent: "no", user_expressions: [1] },
    { cursor_pos: "a", code: null },
    { n: -5, hist_access_type: "search", pattern: "[" },
    { restart: "yes" },
    { target_name: 3 },
    { "\u0000": "\ud800", code: "\u202e'rtl'" },
  ]);
}

const DELIMITER = Buffer.from("<IDS|MSG>");
const frame = (v: unknown) => Buffer.from(JSON.stringify(v));

let log = "";
let client: KernelClient;
const figures = { malformed: 0, answered: 0, replays: 0 };
const started = performance.now();

test.before(async () => {
  client = await KernelClient.start({ onStderr: (s) => (log += s) });
});

test.after(async () => {
  assert.is(await client.shutdown(), 0);
  console.log(
    `\nmeasure: kernel fuzz: ${figures.malformed} malformed messages dropped or answered, ${figures.answered} signed requests with junk content all answered, ${figures.replays} replays refused; kernel alive; ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

async function executeValue(code: string): Promise<string> {
  const r = await client.execute(code);
  assert.is(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  const result = r.iopub.find((m) => m.header.msg_type === "execute_result")!;
  return (result.content.data as Record<string, string>)["text/plain"]!;
}

test("malformed messages are dropped or answered, and the kernel keeps working", async () => {
  const signer = client.signer();
  const forger = new Signer("wrong-key");
  const types = [
    "execute_request",
    "complete_request",
    "inspect_request",
    "history_request",
    "is_complete_request",
    "comm_info_request",
    "comm_open",
    "comm_msg",
    "kernel_info_request",
    "bogus_request",
    "__proto__",
    "constructor",
    "",
    "input_reply",
  ];
  for (let i = 0; i < 3000; i++) {
    const channel = pick(["shell", "shell", "control", "stdin"] as const);
    const header = makeHeader(pick(types), "fuzz");
    const parts = [frame(header), frame(junkJson()), frame(junkJson()), frame(junkJson())];
    let frames: Buffer[];
    switch (i % 8) {
      case 0:
        frames = [randomBytes(1 + Math.floor(rand() * 64))];
        break;
      case 1:
        frames = [DELIMITER, Buffer.from(forger.sign(parts)), ...parts]; // forged
        break;
      case 2:
        frames = [DELIMITER, Buffer.from("0".repeat(64)), ...parts]; // bad signature
        break;
      case 3: {
        const bad = [Buffer.from("{not json"), parts[1]!, parts[2]!, parts[3]!];
        frames = [DELIMITER, Buffer.from(signer.sign(bad)), ...bad];
        break;
      }
      case 4:
        frames = [DELIMITER, Buffer.from(signer.sign(parts)), ...parts.slice(0, 2)]; // missing frames
        break;
      case 5: {
        const noType = [frame({ msg_id: 1 }), parts[1]!, parts[2]!, parts[3]!];
        frames = [DELIMITER, Buffer.from(signer.sign(noType)), ...noType];
        break;
      }
      default:
        // correctly signed, any type (never shutdown or interrupt), junk content
        frames = [DELIMITER, Buffer.from(signer.sign(parts)), ...parts];
    }
    if (channel === "control" && header.msg_type === "execute_request") continue;
    await client.sendRaw(channel, frames);
    figures.malformed++;
  }
  // huge payloads: 8 MB of garbage, and a signed 4 MB unknown message
  await client.sendRaw("shell", [randomBytes(8 * 1024 * 1024)]);
  await client.sendSigned("shell", "bogus_request", { blob: "x".repeat(4 * 1024 * 1024) });
  figures.malformed += 2;
  // a forged execute must never run
  const forgedParts = [
    frame(makeHeader("execute_request", "fuzz")),
    frame({}),
    frame({}),
    frame({ code: "globalThis.pwned = true" }),
  ];
  await client.sendRaw("shell", [DELIMITER, Buffer.from(forger.sign(forgedParts)), ...forgedParts]);
  figures.malformed++;

  // Shell requests run in order: once this is answered, every junk execute has run (a failing
  // one aborts the executes queued behind it, as stop_on_error says).
  await client.request("shell", "kernel_info_request", {});
  assert.is(await executeValue("`${1 + 1} ${typeof globalThis.pwned}`"), "'2 undefined'");
  assert.is(client.process.exitCode, null);
  assert.match(log, /bad signature/);
});

test("every signed request of a known type is answered, whatever its content", async () => {
  // The protocol: each request gets its reply (with a status), even when its content is junk.
  const requests: [string, "shell" | "control"][] = [
    ["kernel_info_request", "shell"],
    ["kernel_info_request", "control"],
    ["execute_request", "shell"],
    ["history_request", "shell"],
    ["is_complete_request", "shell"],
    ["comm_info_request", "shell"],
    ["complete_request", "shell"],
    ["inspect_request", "shell"],
  ];
  for (let i = 0; i < 6 * requests.length; i++) {
    const [type, channel] = requests[i % requests.length]!;
    const content = junkJson();
    const done = client.request(channel, type, content as Record<string, unknown>);
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000).unref());
    const exchange = await Promise.race([done, timeout]);
    assert.ok(exchange, `${type} with ${JSON.stringify(content)}: no reply`);
    assert.is(exchange.reply.header.msg_type, type.replace(/_request$/, "_reply"));
    // is_complete_reply's status is the verdict on the code, not ok/error.
    const statuses = type.startsWith("is_complete")
      ? ["complete", "incomplete", "invalid", "unknown"]
      : ["ok", "error", "aborted"];
    assert.ok(
      statuses.includes(String(exchange.reply.content.status)),
      `${type}: status ${String(exchange.reply.content.status)}`,
    );
    figures.answered++;
  }
});

test("a signed message replayed byte for byte runs once", async () => {
  const signer = client.signer();
  await executeValue("globalThis.runs = 0");
  const message = (code: string) =>
    serializeMessage(
      {
        identities: [],
        header: makeHeader("execute_request", client.session, "halo-client"),
        parent_header: {},
        metadata: {},
        content: { code, silent: false, store_history: true, allow_stdin: false },
      },
      signer,
    );
  const once = message("globalThis.runs++");
  for (let i = 0; i < 5; i++) await client.sendRaw("shell", once);
  figures.replays += 4;
  // Also replayed on another channel, and an interrupt replayed on control.
  await client.sendRaw("control", once);
  const interrupt = serializeMessage(
    {
      identities: [],
      header: makeHeader("interrupt_request", client.session, "halo-client"),
      parent_header: {},
      metadata: {},
      content: {},
    },
    signer,
  );
  await client.sendRaw("control", interrupt);
  await client.sendRaw("control", interrupt);
  figures.replays += 2;
  // Shell requests run in order: this one answers after the first copy has run.
  assert.is(await executeValue("globalThis.runs"), "1");
  assert.match(log, /dropped a shell execute_request: a replay of a message already received/);
  assert.match(log, /dropped a control interrupt_request: a replay/);
});

test.run();
