// zeromq.js allows one send in flight per socket ("Socket is busy writing"): queue them, and keep
// the order of messages as the handler produced them.
import type { Socket } from "zeromq";

export class SocketQueue {
  #tail: Promise<void> = Promise.resolve();
  constructor(
    readonly socket: Socket & { send(frames: Buffer[]): Promise<void> },
    private readonly onError: (err: Error) => void,
  ) {}

  send(frames: Buffer[]): Promise<void> {
    this.#tail = this.#tail
      .then(() => this.socket.send(frames))
      .catch((err: Error) => this.onError(err));
    return this.#tail;
  }

  drain(): Promise<void> {
    return this.#tail;
  }
}
