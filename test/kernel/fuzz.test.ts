// A few thousand malformed messages over ZeroMQ (garbage frames, bad or missing signatures, bad
// JSON, missing frames, unknown types, wrongly typed content, huge payloads): the kernel logs
// and drops or answers them, never executes a forged one, and a normal execute works after.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { KernelClient } from "../../kernel/client/kernel-client.ts";
import { makeHeader, Signer } from "../../kernel/transport/wire.ts";

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
    { cursor_pos: "a", code: null },
    { n: -5, hist_access_type: "search", pattern: "[" },
    { restart: "yes" },
    { target_name: 3 },
  ]);
}

test("malformed messages are dropped or answered, and the kernel keeps working", async () => {
  let log = "";
  const client = await KernelClient.start({ onStderr: (s) => (log += s) });
  try {
    const signer = client.signer();
    const forger = new Signer("wrong-key");
    const d = Buffer.from("<IDS|MSG>");
    const frame = (v: unknown) => Buffer.from(JSON.stringify(v));
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
      "",
      "input_reply",
    ];
    let sent = 0;
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
          frames = [d, Buffer.from(forger.sign(parts)), ...parts]; // forged
          break;
        case 2:
          frames = [d, Buffer.from("0".repeat(64)), ...parts]; // bad signature
          break;
        case 3: {
          const bad = [Buffer.from("{not json"), parts[1]!, parts[2]!, parts[3]!];
          frames = [d, Buffer.from(signer.sign(bad)), ...bad];
          break;
        }
        case 4:
          frames = [d, Buffer.from(signer.sign(parts)), ...parts.slice(0, 2)]; // missing frames
          break;
        case 5: {
          const noType = [frame({ msg_id: 1 }), parts[1]!, parts[2]!, parts[3]!];
          frames = [d, Buffer.from(signer.sign(noType)), ...noType];
          break;
        }
        default:
          // correctly signed, any type (never shutdown or interrupt), junk content
          frames = [d, Buffer.from(signer.sign(parts)), ...parts];
      }
      if (channel === "control" && header.msg_type === "execute_request") continue;
      await client.sendRaw(channel, frames);
      sent++;
    }
    // huge payloads: 8 MB of garbage, and a signed 4 MB unknown message
    await client.sendRaw("shell", [randomBytes(8 * 1024 * 1024)]);
    await client.sendSigned("shell", "bogus_request", { blob: "x".repeat(4 * 1024 * 1024) });
    // a forged execute must never run
    const forgedParts = [
      frame(makeHeader("execute_request", "fuzz")),
      frame({}),
      frame({}),
      frame({ code: "globalThis.pwned = true" }),
    ];
    await client.sendRaw("shell", [d, Buffer.from(forger.sign(forgedParts)), ...forgedParts]);

    const r = await client.execute("`${1 + 1} ${typeof globalThis.pwned}`");
    assert.is(r.reply.content.status, "ok");
    const result = r.iopub.find((m) => m.header.msg_type === "execute_result")!;
    assert.is((result.content.data as Record<string, string>)["text/plain"], "'2 undefined'");
    assert.is(client.process.exitCode, null);
    assert.match(log, /bad signature/);
    console.log(`measure: fuzz sent ${sent + 3} malformed messages; kernel alive and executing`);
  } finally {
    assert.is(await client.shutdown(), 0);
  }
});

test.run();
