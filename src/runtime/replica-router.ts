// Which engine replica serves a prompt. Engines (vLLM, SGLang, llama.cpp, `halo serve`) each keep
// their own prefix cache, so a prompt should go where its prefix was computed before:
// rendezvous (highest-random-weight) hashing over the prompt's first K tokens gives every prefix a
// fixed order of replicas (for servers that take text, the prompt is a handle of the messages'
// text, 4 bytes per number, so the hash is over the first 4K bytes of the rendered messages), the same in every Halo process, with no shared state; when a replica is
// removed or down only its prefixes move. Two departures from the pure order, both on purpose:
// - a replica marked down (connection refused) goes to the back for a cool-down, so its prefixes
//   fall back to their second choice (which then caches them) instead of failing;
// - bounded load: when the preferred replica has all its slots taken, the next one in the prefix's
//   order with a free slot takes the request. One hot prefix (every row of one instruction) would
//   otherwise keep one replica busy and the others idle; spilling in the prefix's own order keeps
//   the spill deterministic, so the second replica's cache warms up for that prefix too.
import { createHash } from "node:crypto";

export interface Replica {
  readonly url: string;
  /** Requests in flight now. */
  active: number;
  /** Requests sent here in total (tests, metrics). */
  sent: number;
  /** performance.now() until which the replica is skipped (0: up). */
  downUntil: number;
  /** Consecutive connection failures: the cool-down doubles with each. */
  failures: number;
  readonly waiters: (() => void)[];
}

export interface ReplicaRouterOptions {
  /** Most requests in flight per replica. */
  concurrency: number;
  /** Prompt tokens hashed for affinity. */
  affinityTokens: number;
  /** First cool-down after a connection failure, ms (doubles, capped at 30 s). Default 1000. */
  downMs?: number;
}

export class ReplicaRouter {
  readonly replicas: Replica[];

  constructor(
    urls: readonly string[],
    private readonly options: ReplicaRouterOptions,
  ) {
    this.replicas = urls.map((url) => ({
      url,
      active: 0,
      sent: 0,
      downUntil: 0,
      failures: 0,
      waiters: [],
    }));
  }

  /** Replicas in the prompt's rendezvous order, those down now moved to the back. */
  order(promptTokens: readonly number[], now = performance.now()): Replica[] {
    const key = promptTokens.slice(0, this.options.affinityTokens).join(",");
    const scored = this.replicas.map((r) => ({ r, score: score(r.url, key) }));
    scored.sort((a, b) => b.score - a.score);
    const up = scored.filter((s) => s.r.downUntil <= now).map((s) => s.r);
    const down = scored.filter((s) => s.r.downUntil > now).map((s) => s.r);
    return [...up, ...down];
  }

  /**
   * The replica for this prompt and a slot on it: the first in its order with a free slot, else
   * a wait on the first (bounded load, see the top of the file). Call `release` when done.
   */
  async acquire(
    promptTokens: readonly number[],
    signal?: AbortSignal,
  ): Promise<{ replica: Replica; release: () => void }> {
    const order = this.order(promptTokens);
    const limit = this.options.concurrency;
    let replica = order.find((r) => r.downUntil <= performance.now() && r.active < limit);
    if (!replica) {
      replica = order[0]!;
      while (replica.active >= limit) await waitForSlot(replica, signal);
    }
    replica.active++;
    replica.sent++;
    let released = false;
    const chosen = replica;
    return {
      replica: chosen,
      release: () => {
        if (released) return;
        released = true;
        chosen.active--;
        chosen.waiters.shift()?.();
      },
    };
  }

  /** A connection to the replica failed: skip it for a cool-down that doubles per failure. */
  markDown(replica: Replica): void {
    replica.failures++;
    const ms = Math.min(30_000, (this.options.downMs ?? 1000) * 2 ** (replica.failures - 1));
    replica.downUntil = performance.now() + ms;
  }

  /** It answered: up again, failures forgotten. */
  markUp(replica: Replica): void {
    replica.failures = 0;
    replica.downUntil = 0;
  }
}

/** Rendezvous weight of (replica, prefix key): 48 bits of SHA-256, uniform and stable. */
function score(url: string, key: string): number {
  return createHash("sha256").update(url).update("\0").update(key).digest().readUIntBE(0, 6);
}

function waitForSlot(replica: Replica, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const wake = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      const i = replica.waiters.indexOf(wake);
      if (i >= 0) replica.waiters.splice(i, 1);
      reject(signal!.reason);
    };
    replica.waiters.push(wake);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
