// Messages between the main thread (handler + executor) and the transport worker (sockets).
// Buffers cross as Uint8Array; `toBuffer` restores them.
import type { MessagePort } from "node:worker_threads";
import type { Channel, Header, Message } from "../protocol/messages.ts";

export type WireMessage = Omit<Message, "buffers"> & { buffers?: Buffer[] };

export type ToMain =
  | { type: "ready" }
  | { type: "request"; channel: Channel; message: Message }
  /** `at`: Date.now() when the request arrived; a cell started later ignores it. */
  | { type: "interrupt"; at: number }
  | { type: "closed" };

export type ToWorker =
  | { type: "send"; channel: Channel; message: WireMessage }
  | { type: "stream"; parent: Partial<Header>; name: "stdout" | "stderr"; text: string }
  | { type: "flush" }
  | { type: "close" };

/** The stdin hand-off: main blocks on `flag` (Atomics.wait) until the worker posts the
 *  input_reply on `port` and stores INPUT_READY, or stores INPUT_INTERRUPTED. */
export const INPUT_WAITING = 0;
export const INPUT_READY = 1;
export const INPUT_INTERRUPTED = 2;
/** Int32 slots of the shared flag buffer. */
export const SLOT_INPUT = 0;
/** 1 while the main thread runs a cell's synchronous code: only then is SIGINT needed (and
 *  safe: breakOnSigint turns it into an exception inside the cell). */
export const SLOT_IN_SYNC = 1;

export interface WorkerData {
  connectionFile: string;
  session: string;
  flag: SharedArrayBuffer;
  stdinPort: MessagePort;
}

export function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function reviveMessage(m: Message): Message {
  return { ...m, identities: m.identities.map(toBuffer), buffers: m.buffers.map(toBuffer) };
}
