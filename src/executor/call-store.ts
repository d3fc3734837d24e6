// Finished work kept per call, not per node table: a collect that fails at row 45 of 50, or is
// interrupted, has already kept the 44 calls that finished, so the rerun makes only the rest.
// Two tiers: the session's memory (every stable call kind) and the disk (LLM calls of a model
// with a content identity, and deterministic HTTP requests; see disk-result-store.ts). Only
// calls whose node is "stable" are kept (never volatile sampling or tools, never a database
// another client may change), and only successes: a failure is asked again.
//
// SQL results stay in memory: the embedded database's state key (part of the node's signature)
// counts registrations in this process, so it names no content another process could check.
// Function results too: a function's identity is its source text, blind to what it captured,
// which a restart is the user's way to refresh.
import { createHash } from "node:crypto";
import type { PlanNode } from "../plan/types.ts";
import type { DiskKind, DiskResultStore } from "./disk-result-store.ts";
import type { LlmModel } from "./types.ts";

/** Deterministic GET answers on disk are recomputed after a day (the endpoint may change). */
const HTTP_MAX_AGE_MS = 24 * 3_600_000;

interface Kept {
  value: unknown;
  bytes: number;
}

/** Results of single calls for the session: LRU, bounded in entries and (estimated) bytes. */
export class SessionCallStore {
  private readonly entries = new Map<string, Kept>();
  private bytes = 0;

  constructor(
    readonly maxEntries = 500_000,
    readonly maxBytes = 256 * 2 ** 20,
  ) {}

  get(key: string): { value: unknown } | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return { value: hit.value };
  }

  set(key: string, value: unknown): void {
    const bytes = 2 * key.length + estimateBytes(value);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const [oldest, kept] = this.entries.entries().next().value as [string, Kept];
      this.entries.delete(oldest);
      this.bytes -= kept.bytes;
    }
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** Strings dominate (LLM answers); other values by their JSON length, or a flat guess. */
function estimateBytes(value: unknown): number {
  if (typeof value === "string") return 2 * value.length + 32;
  try {
    return 2 * (JSON.stringify(value)?.length ?? 8) + 32;
  } catch {
    return 1024;
  }
}

/** Where one run's calls came from, and how many new results it kept. */
export interface CallCounts {
  /** Answered from this session's memory (no call made). */
  session: number;
  /** Answered from the disk store (no call made). */
  disk: number;
  /** New results this run added to the stores. */
  kept: number;
}

export interface RunCallsOptions {
  session: SessionCallStore;
  /** The disk tier; absent when off. */
  disk?: DiskResultStore;
  readDisk: boolean;
  writeDisk: boolean;
  /** The model an LLM node names (loaded already when its calls run). */
  loadModel(modelKey: string): Promise<LlmModel>;
  /** What identifies a model's weights on disk (model-identity.ts); undefined: session only. */
  modelIdentity(modelKey: string): Promise<string | undefined>;
}

/** One run's view of the stores: lookups and writes by call, counted for `halo.lastRun`. */
export class RunCalls {
  readonly counts: CallCounts = { session: 0, disk: 0, kept: 0 };
  private readonly identities = new Map<string, Promise<string | undefined>>();
  private readonly scopes = new Map<string, Promise<string>>();
  /** Keys written in this run (a fanned-out answer reaches every row that asked for it). */
  private readonly written = new Set<string>();

  constructor(private readonly options: RunCallsOptions) {}

  /** A kept result of `node`'s call with this `callKey`, or undefined. */
  async get(node: PlanNode, callKey: string): Promise<{ value: unknown } | undefined> {
    const key = await this.sessionKey(node, callKey);
    const hit = this.options.session.get(key);
    if (hit) {
      this.counts.session++;
      return hit;
    }
    if (!this.options.readDisk) return undefined;
    const disk = await this.diskKey(node, callKey);
    if (!disk) return undefined;
    const found = this.options.disk!.get(disk.kind, disk.hash, disk.maxAgeMs);
    if (!found) return undefined;
    this.counts.disk++;
    this.options.session.set(key, found.value);
    return found;
  }

  /** Keeps a successful call's result (its promise settles once it is on disk, when it goes). */
  async keep(node: PlanNode, callKey: string, value: unknown): Promise<void> {
    const key = await this.sessionKey(node, callKey);
    if (this.written.has(key)) return;
    this.written.add(key);
    this.options.session.set(key, value);
    this.counts.kept++;
    if (!this.options.writeDisk) return;
    const disk = await this.diskKey(node, callKey);
    if (disk) this.options.disk!.put(disk.kind, disk.hash, value);
  }

  private async diskKey(
    node: PlanNode,
    callKey: string,
  ): Promise<{ kind: DiskKind; hash: string; maxAgeMs: number } | undefined> {
    if (!this.options.disk) return undefined;
    let kind: DiskKind;
    let scope = "";
    if (node.kind === "HttpCall") kind = "http";
    else if (node.kind === "LlmCall") {
      kind = "llm";
      const identity = await this.identityOf(node.args.modelKey);
      if (identity === undefined) return undefined;
      scope = identity;
    } else return undefined;
    const hash = createHash("sha256")
      .update(`halo-results\0${kind}\0${scope}\0${callKey}`)
      .digest("hex");
    return { kind, hash, maxAgeMs: kind === "http" ? HTTP_MAX_AGE_MS : Infinity };
  }

  private identityOf(modelKey: string): Promise<string | undefined> {
    let identity = this.identities.get(modelKey);
    if (!identity) {
      identity = this.options.modelIdentity(modelKey).catch(() => undefined);
      this.identities.set(modelKey, identity);
    }
    return identity;
  }

  /**
   * The session key: the call's request (`callKey`: an LLM call's model key, messages and
   * sampling; an HTTP request; a function's arguments) in a scope: for SQL the node's signature,
   * which carries the database's state; for a function its key; for an LLM call the model
   * object answering, so a name registered again with another model starts afresh.
   */
  private async sessionKey(node: PlanNode, callKey: string): Promise<string> {
    let scope = "";
    if (node.kind === "SqlCall") scope = node.signature;
    else if (node.kind === "FnCall") scope = node.args.fnKey;
    else if (node.kind === "LlmCall") scope = await this.modelScope(node.args.modelKey);
    return `${node.kind}\0${scope}\0${callKey}`;
  }

  private modelScope(modelKey: string): Promise<string> {
    let scope = this.scopes.get(modelKey);
    if (!scope) {
      scope = this.options.loadModel(modelKey).then(objectId);
      this.scopes.set(modelKey, scope);
    }
    return scope;
  }
}

const objectIds = new WeakMap<object, string>();
let nextObjectId = 0;

function objectId(model: object): string {
  let id = objectIds.get(model);
  if (id === undefined) objectIds.set(model, (id = `model#${nextObjectId++}`));
  return id;
}
