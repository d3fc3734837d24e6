// A handle on KV that lives in a model thread: the payload the main thread's prefix cache and
// scheduler hold when the model runs off the JS thread. It knows only its token count (so bytes
// follow from the model's bytes per token); slicing or joining handles allocates a new id at once
// and posts the operation to the thread, which runs it before the next forward. No KV byte
// crosses to the main thread.
//
// Ownership: whoever gets a handle (from a forward, slice or concat) releases it once done with
// it (`release`); the thread then drops that reference. A handle dropped without release is
// released when the garbage collector finalizes it, later.
import { checkSliceBounds, type KvPayload } from "../../kv/kv-payload.ts";
import type { KvOp } from "./thread-protocol.ts";

/** Distributive, so each member keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** The engine side a handle talks to (ThreadedEngine). */
export interface KvHandleOwner {
  /** For error messages: the model and its thread. */
  readonly label: string;
  readonly kvBytesPerToken: number;
  /** Allocates an id, posts `op` for it, and returns its handle. */
  derive(op: WithoutId<KvOp>, numTokens: number): ThreadKv;
  /** Posts the release of `handle`'s id. */
  release(handle: ThreadKv): void;
}

export class ThreadKv implements KvPayload<ThreadKv> {
  private released = false;

  constructor(
    readonly owner: KvHandleOwner,
    /** The KV entry in the owner's thread. */
    readonly id: number,
    readonly numTokens: number,
  ) {}

  get bytes(): number {
    return this.numTokens * this.owner.kvBytesPerToken;
  }

  get isReleased(): boolean {
    return this.released;
  }

  slice(start: number, end: number): ThreadKv {
    checkSliceBounds(this.numTokens, start, end);
    this.checkLive("slice");
    return this.owner.derive({ op: "slice", of: this.id, start, end }, end - start);
  }

  concat(rest: readonly ThreadKv[]): ThreadKv {
    this.checkLive("concat");
    let n = this.numTokens;
    for (const part of rest) {
      if (part.owner !== this.owner) {
        throw new Error(
          `concat of KV from two model threads (${this.owner.label} and ${part.owner.label}): move one first`,
        );
      }
      part.checkLive("concat");
      n += part.numTokens;
    }
    return this.owner.derive({ op: "concat", parts: [this.id, ...rest.map((r) => r.id)] }, n);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.owner.release(this);
  }

  /** Throws when this handle was released: its KV may be gone from the thread. */
  checkLive(verb: string): void {
    if (this.released) {
      throw new Error(
        `${verb}: KV handle ${this.id} of ${this.owner.label} was released: release a handle once, after its last use`,
      );
    }
  }
}
