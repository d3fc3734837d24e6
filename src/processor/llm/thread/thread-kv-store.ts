// The KV a model thread holds, by the handle ids the main thread allocated. An entry is a
// `RuntimeKv` (the in-process engine's payload, unchanged), or a promise of one while it waits for
// an entry it derives from or for a move from another thread. Operations run in posting order;
// one that waits does not hold up the ones after it (a forward awaits only its own pasts).
//
// Invariants:
// - Every id the main thread holds a live handle for is an entry here, and nothing else is:
//   `release` deletes the entry, so its buffers are garbage once no entry (and no batch being
//   decoded) refers to them. `stats().entries` is what tests watch eviction by.
// - An entry that cannot be made (a failed slice, a move whose sender failed or stopped) rejects
//   where it is used, naming why; it never waits forever.
import type { MessagePort } from "node:worker_threads";
import { SequenceKv, type KvShape, type KvType } from "../../../runtime/index.ts";
import { RuntimeKv } from "../runtime-engine.ts";
import type { KvOp, KvParcel, ThreadKvStats } from "./thread-protocol.ts";

type Entry = RuntimeKv | Promise<RuntimeKv>;

/** A move's KV, met from both ends: the "receive" op (claimed) and the parcel (arrived). */
interface Arrival {
  promise: Promise<RuntimeKv>;
  resolve: (kv: RuntimeKv) => void;
  reject: (error: Error) => void;
  peer: number;
  claimed: boolean;
  arrived: boolean;
}

export class ThreadKvStore {
  private readonly entries = new Map<number, Entry>();
  private readonly arrivals = new Map<number, Arrival>();
  private readonly ports = new Map<number, MessagePort>();

  constructor(private readonly shape: KvShape) {}

  private get kvType(): KvType {
    return this.shape.kvType ?? "float32";
  }

  /** The KV of `id`, or a promise of it while it is still being made or moved. */
  get(id: number): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`KV entry ${id} is not held by this model thread (released?)`);
    return entry;
  }

  set(id: number, kv: RuntimeKv): void {
    this.entries.set(id, kv);
  }

  apply(op: KvOp): void {
    switch (op.op) {
      case "slice":
        return this.derive(op.id, [op.of], ([kv]) => kv!.slice(op.start, op.end));
      case "concat":
        return this.derive(op.id, op.parts, ([first, ...rest]) => first!.concat(rest));
      case "release":
        this.entries.delete(op.id);
        return;
      case "send":
        void this.send(op.id, op.peer, op.as);
        return;
      case "receive": {
        const a = this.arrival(op.id, op.peer);
        a.claimed = true;
        if (!a.arrived && !this.ports.has(op.peer)) {
          a.reject(
            new Error(`model thread ${op.peer}, which was to send KV entry ${op.id}, stopped`),
          );
          a.arrived = true;
        }
        if (a.arrived) this.arrivals.delete(op.id);
        return this.track(op.id, a.promise);
      }
    }
  }

  /** A port to another model thread: parcels from it arrive here, parcels to it leave by it. */
  link(peer: number, port: MessagePort): void {
    this.ports.set(peer, port);
    port.on("message", (parcel: KvParcel) => {
      const a = this.arrival(parcel.id, peer);
      if ("error" in parcel) a.reject(new Error(parcel.error));
      else if (parcel.kvType !== this.kvType)
        // two variants of one folder (fp32 and fp16 KV) must never mix: the bits differ
        a.reject(
          new Error(
            `KV entry ${parcel.id} from model thread ${peer} is ${parcel.kvType}, this thread's model keeps ${this.kvType}`,
          ),
        );
      else
        a.resolve(
          new RuntimeKv(new SequenceKv(this.shape, parcel.length, parcel.keys, parcel.values)),
        );
      a.arrived = true;
      if (a.claimed) this.arrivals.delete(parcel.id);
    });
    // The peer thread ended: what it had yet to send never comes, so receivers fail, not hang.
    port.on("close", () => {
      this.ports.delete(peer);
      for (const [id, a] of this.arrivals)
        if (a.peer === peer && !a.arrived) {
          a.reject(new Error(`model thread ${peer}, which was sending KV entry ${id}, stopped`));
          this.arrivals.delete(id);
        }
    });
  }

  stats(): ThreadKvStats {
    let bytes = 0;
    let arriving = 0;
    for (const entry of this.entries.values()) {
      if (entry instanceof RuntimeKv) bytes += entry.bytes;
      else arriving++;
    }
    return { entries: this.entries.size, arriving, bytes };
  }

  private derive(id: number, from: number[], make: (parts: RuntimeKv[]) => RuntimeKv): void {
    let parts: Entry[];
    try {
      parts = from.map((f) => this.get(f));
    } catch (error) {
      return this.track(id, Promise.reject(error as Error));
    }
    if (parts.every((p): p is RuntimeKv => p instanceof RuntimeKv)) {
      try {
        this.entries.set(id, make(parts));
      } catch (error) {
        this.track(id, Promise.reject(error as Error));
      }
      return;
    }
    this.track(id, Promise.all(parts).then(make));
  }

  /** Holds a pending entry; once it resolves its value replaces it (unless released by then). */
  private track(id: number, pending: Promise<RuntimeKv>): void {
    this.entries.set(id, pending);
    pending.then(
      (kv) => {
        if (this.entries.get(id) === pending) this.entries.set(id, kv);
      },
      () => {}, // rejects where the entry is used (an unhandled rejection would end the thread)
    );
  }

  private async send(id: number, peer: number, as: number): Promise<void> {
    const port = this.ports.get(peer);
    if (!port) return; // the peer stopped: its "close" already failed what it was waiting for
    try {
      const kv = await this.get(id);
      // A fresh copy of the whole span, so transferring its buffers leaves `id` intact.
      const copy = kv.slice(0, kv.numTokens).kv;
      const parcel: KvParcel = {
        id: as,
        length: copy.length,
        kvType: this.kvType,
        keys: copy.keys,
        values: copy.values,
      };
      port.postMessage(
        parcel,
        [...copy.keys, ...copy.values].map((a) => a.buffer as ArrayBuffer),
      );
    } catch (error) {
      port.postMessage({ id: as, error: `KV could not be moved: ${(error as Error).message}` });
    }
  }

  private arrival(id: number, peer: number): Arrival {
    let a = this.arrivals.get(id);
    if (!a) {
      let resolve!: Arrival["resolve"];
      let reject!: Arrival["reject"];
      const promise = new Promise<RuntimeKv>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {}); // rejects where the entry is used, if it ever is
      a = { promise, resolve, reject, peer, claimed: false, arrived: false };
      this.arrivals.set(id, a);
    }
    return a;
  }
}
