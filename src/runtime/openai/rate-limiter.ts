// One server's rate limits, kept on the client side so requests wait here instead of being
// refused there. Three sources, all respected at once:
// - the operator's `limits: { rpm, tpm }`: sliding windows over the requests started (and the
//   tokens they asked for) in the last minute, plus the same rate per second, because providers
//   enforce per-minute limits over shorter periods (OpenAI: "60,000 requests/minute may be
//   enforced as 1,000 requests/second"), so a burst of a whole minute's budget is refused too;
// - what the server states in `x-ratelimit-remaining-*` / `-reset-*` (rate-headers.ts): once it
//   says N requests or T tokens are left until a reset, no more than that is sent before it;
// - a 429's Retry-After: nothing is sent to that server before it passes.
// Requests wait in arrival order (FIFO), so the order the optimizer chose (prompts sharing a
// prefix side by side) is the order they reach the server.
import type { StatedLimits } from "./rate-headers.ts";

export interface RateLimits {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens per minute: prompt plus the most the answer may take, as providers count them. */
  tpm?: number;
}

export interface LimiterClock {
  now(): number;
  setTimer(fn: () => void, ms: number): () => void;
}

const realClock: LimiterClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** A request allowed to start; `settle` corrects its tokens once the server says what it used. */
export interface RateTicket {
  readonly tokens: number;
  settle(actualTokens: number | undefined): void;
  /** The request ended (answered or not): it is no longer in flight. */
  release(): void;
}

/** Why the head of the queue waits and until when (the progress bar shows it). */
export interface RateWait {
  reason: string;
  untilMs: number;
}

interface Entry {
  at: number;
  tokens: number;
}

interface Window {
  spanMs: number;
  cap: number;
  unit: "requests" | "tokens";
  reason: string;
}

interface Waiter {
  tokens: number;
  grant: (t: RateTicket) => void;
}

const MINUTE = 60_000;

export class RateLimiter {
  private readonly windows: Window[] = [];
  /** Starts within the last minute, oldest first. */
  private log: Entry[] = [];
  private readonly queue: Waiter[] = [];
  private pausedUntil = 0;
  private requestsLeft: { left: number; until: number } | undefined;
  private tokensLeft: { left: number; until: number } | undefined;
  private readonly inFlight = new Set<Entry>();
  private cancelTimer: (() => void) | undefined;
  private waiting: RateWait | undefined;

  constructor(
    readonly limits: RateLimits,
    private readonly onWait: (wait: RateWait | undefined) => void = () => {},
    private readonly clock: LimiterClock = realClock,
  ) {
    const add = (perMinute: number | undefined, unit: Window["unit"], name: string) => {
      if (perMinute === undefined) return;
      this.windows.push({ spanMs: MINUTE, cap: perMinute, unit, reason: `${name} ${perMinute}` });
      const perSecond = Math.ceil(perMinute / 60);
      if (perSecond < perMinute)
        this.windows.push({
          spanMs: 1000,
          cap: perSecond,
          unit,
          reason: `${name} ${perMinute} (${perSecond}/s)`,
        });
    };
    add(limits.rpm, "requests", "rpm");
    add(limits.tpm, "tokens", "tpm");
  }

  /** Waits until a request of about `tokens` tokens may start; throws if it never could. */
  acquire(tokens: number, signal?: AbortSignal): Promise<RateTicket> {
    const tpm = this.limits.tpm;
    if (tpm !== undefined && tokens > tpm)
      return Promise.reject(
        new Error(
          `a request of about ${tokens} tokens (prompt and maxTokens) is more than limits.tpm ${tpm} allows in a minute: lower maxTokens or raise tpm`,
        ),
      );
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const waiter: Waiter = {
        tokens,
        grant: (t) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(t);
        },
      };
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal!.reason);
        this.pump();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** The server refused with a wait (429 Retry-After): nothing starts before it passes. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    this.pump();
  }

  /**
   * What the server stated on an answer. Requests still in flight besides the answered one may
   * not be counted in it yet: they are taken off what is left, so the count errs on the safe side.
   */
  observe(stated: StatedLimits, answered: RateTicket): void {
    const now = this.clock.now();
    const others = [...this.inFlight].filter((e) => e !== (answered as Ticket).entry);
    if (stated.remainingRequests !== undefined)
      this.requestsLeft = {
        left: stated.remainingRequests - others.length,
        until: now + (stated.requestsResetMs ?? 1000),
      };
    if (stated.remainingTokens !== undefined)
      this.tokensLeft = {
        left: stated.remainingTokens - others.reduce((n, e) => n + e.tokens, 0),
        until: now + (stated.tokensResetMs ?? 1000),
      };
    this.pump();
  }

  /** Starts within each window now (tests, metrics). */
  countInWindow(spanMs: number, unit: "requests" | "tokens"): number {
    const from = this.clock.now() - spanMs;
    return this.log
      .filter((e) => e.at > from)
      .reduce((n, e) => n + (unit === "requests" ? 1 : e.tokens), 0);
  }

  /** How long a request of `tokens` must wait now, and why (0 when it may go). */
  private waitFor(tokens: number, now: number): RateWait | undefined {
    const waits: RateWait[] = [];
    if (this.pausedUntil > now) waits.push({ reason: "Retry-After", untilMs: this.pausedUntil });
    const r = this.requestsLeft;
    if (r && r.until > now && r.left < 1)
      waits.push({ reason: "server: no requests left", untilMs: r.until });
    const t = this.tokensLeft;
    if (t && t.until > now && t.left < tokens)
      waits.push({ reason: "server: no tokens left", untilMs: t.until });
    for (const w of this.windows) {
      const until = this.windowOpensAt(w, tokens, now);
      if (until > now) waits.push({ reason: w.reason, untilMs: until });
    }
    if (waits.length === 0) return undefined;
    return waits.reduce((a, b) => (b.untilMs > a.untilMs ? b : a));
  }

  /**
   * When a window first has room for this request: its starts still inside the window plus this
   * one fit under the cap, or the window is empty (a request bigger than a second's share of
   * tokens still goes, alone).
   */
  private windowOpensAt(w: Window, tokens: number, now: number): number {
    const weight = (e: Entry) => (w.unit === "requests" ? 1 : e.tokens);
    const need = w.unit === "requests" ? 1 : tokens;
    const inside = this.log.filter((e) => e.at > now - w.spanMs);
    let used = inside.reduce((n, e) => n + weight(e), 0);
    if (used + need <= w.cap || used === 0) return now;
    for (const e of inside) {
      used -= weight(e);
      if (used + need <= w.cap || used === 0) return e.at + w.spanMs;
    }
    return now;
  }

  private pump(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const now = this.clock.now();
    this.log = this.log.filter((e) => e.at > now - MINUTE);
    for (;;) {
      const head = this.queue[0];
      if (!head) break;
      const wait = this.waitFor(head.tokens, now);
      if (wait) {
        this.setWaiting(wait);
        this.cancelTimer = this.clock.setTimer(() => this.pump(), wait.untilMs - now);
        return;
      }
      this.queue.shift();
      head.grant(this.start(head.tokens, now));
    }
    this.setWaiting(undefined);
  }

  private start(tokens: number, now: number): RateTicket {
    const entry: Entry = { at: now, tokens };
    this.log.push(entry);
    this.inFlight.add(entry);
    if (this.requestsLeft) this.requestsLeft.left -= 1;
    if (this.tokensLeft) this.tokensLeft.left -= tokens;
    return new Ticket(entry, this);
  }

  /** @internal Ticket's callbacks. */
  settleEntry(entry: Entry, actual: number | undefined): void {
    if (actual !== undefined && actual >= 0) entry.tokens = actual;
  }

  /** @internal */
  releaseEntry(entry: Entry): void {
    this.inFlight.delete(entry);
    this.pump();
  }

  private setWaiting(wait: RateWait | undefined): void {
    const same =
      wait === this.waiting ||
      (wait &&
        this.waiting &&
        wait.reason === this.waiting.reason &&
        wait.untilMs === this.waiting.untilMs);
    if (same) return;
    this.waiting = wait;
    this.onWait(wait);
  }
}

class Ticket implements RateTicket {
  private done = false;
  constructor(
    readonly entry: Entry,
    private readonly limiter: RateLimiter,
  ) {}
  get tokens(): number {
    return this.entry.tokens;
  }
  settle(actual: number | undefined): void {
    this.limiter.settleEntry(this.entry, actual);
  }
  release(): void {
    if (this.done) return;
    this.done = true;
    this.limiter.releaseEntry(this.entry);
  }
}
