import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  makeHeader,
  parseFrames,
  serializeMessage,
  Signer,
} from "../../../kernel/transport/wire.ts";

const signer = new Signer("secret");
const msg = {
  identities: [Buffer.from("id1")],
  header: makeHeader("execute_request", "s"),
  parent_header: {},
  metadata: {},
  content: { code: "1" },
};

test("round trip with identities and buffers", () => {
  const frames = serializeMessage({ ...msg, buffers: [Buffer.from([1, 2])] }, signer);
  const r = parseFrames(frames, signer);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.message.identities.map(String), ["id1"]);
  assert.is(r.message.header.msg_type, "execute_request");
  assert.equal(r.message.content, { code: "1" });
  assert.equal([...r.message.buffers[0]!], [1, 2]);
});

test("a bad signature, a missing delimiter, bad JSON and missing frames are refused", () => {
  const frames = serializeMessage(msg, new Signer("other"));
  assert.equal(parseFrames(frames, signer), { ok: false, reason: "bad signature" });
  assert.not.ok(parseFrames([Buffer.from("x")], signer).ok);
  const good = serializeMessage(msg, signer);
  assert.not.ok(parseFrames(good.slice(0, 4), signer).ok);
  const parts = [Buffer.from("{"), Buffer.from("{}"), Buffer.from("{}"), Buffer.from("{}")];
  const badJson = [Buffer.from("<IDS|MSG>"), Buffer.from(signer.sign(parts)), ...parts];
  const r = parseFrames(badJson, signer);
  assert.ok(!r.ok && r.reason.startsWith("bad JSON"));
});

test("an empty key turns signing off", () => {
  const none = new Signer("");
  const frames = serializeMessage(msg, none);
  assert.is(frames[2]!.toString(), "");
  assert.ok(parseFrames(frames, none).ok);
});

test.run();
