// The Jupyter wire format: [identities..., "<IDS|MSG>", hmac, header, parent, metadata, content,
// buffers...]. Signing is HMAC-SHA256 over the four JSON frames, keyed with the connection key.
// Used by the kernel's transport worker and by our own client (`halo run`, tests).
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import type { Header, Message } from "../protocol/messages.ts";
import { PROTOCOL_VERSION } from "../protocol/messages.ts";

const DELIMITER = "<IDS|MSG>";

export class Signer {
  readonly #key: Buffer;
  readonly #scheme: string;

  constructor(key: string, scheme = "hmac-sha256") {
    this.#key = Buffer.from(key, "utf8");
    const algo = scheme.replace(/^hmac-/, "");
    if (algo !== "sha256")
      throw new Error(`signature_scheme '${scheme}' is not supported: use hmac-sha256`);
    this.#scheme = algo;
  }

  /** An empty key turns signing off, as the protocol allows. */
  get enabled(): boolean {
    return this.#key.length > 0;
  }

  sign(frames: Buffer[]): string {
    if (!this.enabled) return "";
    const h = createHmac(this.#scheme, this.#key);
    for (const f of frames) h.update(f);
    return h.digest("hex");
  }

  verify(signature: string, frames: Buffer[]): boolean {
    if (!this.enabled) return true;
    const expected = Buffer.from(this.sign(frames), "utf8");
    const got = Buffer.from(signature, "utf8");
    return expected.length === got.length && timingSafeEqual(expected, got);
  }
}

export type ParseResult =
  | { ok: true; message: Message; /** The HMAC frame, hex ("" unsigned). */ signature: string }
  | { ok: false; reason: string };

/** Splits and verifies a multipart message. Never throws: malformed input gets a reason. */
export function parseFrames(frames: Buffer[], signer: Signer): ParseResult {
  const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString() === DELIMITER);
  if (at < 0) return { ok: false, reason: "no <IDS|MSG> delimiter" };
  if (frames.length < at + 6)
    return {
      ok: false,
      reason: `only ${frames.length - at - 1} frames after the delimiter, need 5`,
    };
  const [sig, ...rest] = frames.slice(at + 1);
  const parts = rest.slice(0, 4);
  if (!signer.verify(sig!.toString(), parts)) return { ok: false, reason: "bad signature" };
  let decoded: unknown[];
  try {
    decoded = parts.map((p) => JSON.parse(p.toString("utf8")) as unknown);
  } catch (err) {
    return { ok: false, reason: `bad JSON: ${(err as Error).message}` };
  }
  const [header, parent, metadata, content] = decoded;
  if (!isObject(header) || typeof header.msg_type !== "string" || typeof header.msg_id !== "string")
    return { ok: false, reason: "header lacks msg_type or msg_id" };
  return {
    ok: true,
    signature: sig!.toString(),
    message: {
      identities: frames.slice(0, at),
      header: header as unknown as Header,
      parent_header: isObject(parent) ? (parent as Partial<Header>) : {},
      metadata: isObject(metadata) ? metadata : {},
      content: isObject(content) ? content : {},
      buffers: rest.slice(4),
    },
  };
}

export function serializeMessage(
  message: Omit<Message, "buffers"> & { buffers?: Buffer[] },
  signer: Signer,
): Buffer[] {
  const parts = [message.header, message.parent_header, message.metadata, message.content].map(
    (p) => Buffer.from(JSON.stringify(p), "utf8"),
  );
  return [
    ...message.identities,
    Buffer.from(DELIMITER),
    Buffer.from(signer.sign(parts)),
    ...parts,
    ...(message.buffers ?? []),
  ];
}

export function makeHeader(msgType: string, session: string, username = "halo"): Header {
  return {
    msg_id: randomUUID(),
    session,
    username,
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
