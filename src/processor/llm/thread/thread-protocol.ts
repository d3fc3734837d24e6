// The messages between a model thread (model-thread.ts) and its proxy on the main thread
// (threaded-engine.ts). KV never crosses to the main thread: the main thread names KV by handle
// ids it allocates itself, so it can derive new handles (slices, concatenations, moves) without
// waiting for a reply; the thread runs those operations in the order they were posted. Only
// token ids go in and last-position logits come out (transferred, not copied).
import type { MessagePort } from "node:worker_threads";
import type { KvType, LoadOptions, SequenceKv } from "../../../runtime/index.ts";

/** What the main thread passes to a new model thread. */
export interface ThreadData {
  modelDir: string;
  loadOptions: LoadOptions;
}

/**
 * A KV operation, run in the thread in posting order. Ids are the thread's KV entries; an id
 * names one reference to KV (two ids may share buffers), and `release` drops that reference.
 */
export type KvOp =
  /** Tokens [start, end) of `of` become `id`. */
  | { op: "slice"; id: number; of: number; start: number; end: number }
  /** `parts` in order become `id` (one part: `id` is another reference to the same KV). */
  | { op: "concat"; id: number; parts: number[] }
  | { op: "release"; id: number }
  /** A copy of `id` goes to thread `peer` over the port linked to it, where it becomes `as`. */
  | { op: "send"; id: number; peer: number; as: number }
  /** `id` is the KV thread `peer` sends (see "send"); usable once it arrives. */
  | { op: "receive"; id: number; peer: number };

export interface ForwardRow {
  /** The past's KV entry; undefined for none. */
  past?: number;
  tokens: readonly number[];
}

export type ToThread =
  | { type: "ops"; ops: KvOp[] }
  /** Runs `ops`, then one batched forward; the rows' new KV become the entries `outIds`. */
  | { type: "forward"; seq: number; ops: KvOp[]; rows: ForwardRow[]; outIds: number[] }
  /** Runs `ops`, then reports live KV. */
  | { type: "stats"; seq: number; ops: KvOp[] }
  /** A port to thread `peer`, for KV moves between the two. */
  | { type: "link"; peer: number; port: MessagePort }
  /** Release the session and end the thread (after whatever was posted before). */
  | { type: "close" };

/** Live KV in the thread: what eviction and release are observed by. */
export interface ThreadKvStats {
  /** KV entries held (resolved or arriving). */
  entries: number;
  /** Of those, entries whose KV is still on its way from another thread. */
  arriving: number;
  /** Bytes of the resolved entries, as the payloads count them (shared buffers count per entry). */
  bytes: number;
}

export type FromThread =
  | { type: "ready"; modelId: string; kvBytesPerToken: number; maxPositions: number; ms: number }
  | { type: "load-error"; message: string }
  /** Last-position logits per row ([vocab] each, transferred) and the thread's time in it. */
  | { type: "forward"; seq: number; logits: Float32Array[]; ms: number }
  | { type: "stats"; seq: number; stats: ThreadKvStats }
  | { type: "error"; seq: number; message: string }
  | { type: "closed" };

/**
 * A moved span of KV, as it crosses between two model threads (buffers transferred), or why it
 * could not be sent (the receiver's entry then fails where it is used, instead of waiting).
 */
export type KvParcel =
  | {
      id: number;
      length: number;
      /** The buffers' element type: float16 KV crosses as Uint16Array bits, 2 bytes a value. */
      kvType: KvType;
      /** Per layer, [kvHeads, length, headDim] in `kvType` (Float32Array or Uint16Array). */
      keys: SequenceKv["keys"];
      values: SequenceKv["values"];
    }
  | { id: number; error: string };
