// What the handler and executor send through: the transport worker in the kernel, a recording
// fake in handler tests.
import type { Channel, Header } from "../protocol/messages.ts";
import type { WireMessage } from "./bridge-types.ts";

export interface Outbox {
  send(channel: Channel, message: WireMessage): void;
  /** Console output of a running cell; batched by the transport, flushed before any other send. */
  stream(parent: Partial<Header>, name: "stdout" | "stderr", text: string): void;
  /** Calls `sendRequest` (which sends the input_request), then blocks the calling thread until
   *  the frontend answers, or returns undefined when interrupted. */
  readInput(sendRequest: () => void): { value: string } | undefined;
}
