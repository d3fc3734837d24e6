// One server's rate limits, kept on the client side so requests wait here instead of being
// refused there. Three sources, all respected at once:
// - the operator's `limits: { rpm, tpm }`, as an even pace: request starts are 60 s / rpm apart,
//   and a request of w tokens (its prompt plus the room it asks for, as providers count them)
//   holds the next one back w * 60 s / tpm. Providers enforce per-minute limits over shorter
//   periods (OpenAI: "60,000 requests/minute may be enforced as 1,000 requests/second"), so a
//   burst of a minute's budget would be refused; an even pace never bunches at a window's edge,
//   whichever way the server cuts its windows;
// - what the server states in `x-ratelimit-remaining-*` / `-reset-*` (rate-headers.ts): once it
//   says N requests or T tokens are left until a reset, no more than that is sent before it, and
//   after the reset no more than its stated window (`x-ratelimit-limit-*`) until it speaks again;
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

/** A request allowed to start; `release` it when it ends (answered or not). */
export interface RateTicket {
  readonly tokens: number;
  release(): void;
}

/** Why the head of the queue waits and until when (the progress bar shows it). */
export interface RateWait {
  reason: string;
  untilMs: number;
}

/** What the server said is left, until when, and its whole window once that passes. */
interface Allowance {
  left: number;
  until: number;
  limit: number | undefined;
}

interface Waiter {
  tokens: number;
  grant: (t: RateTicket) => void;
}

const MINUTE = 60_000;

export class RateLimiter {
  /** When the next request may start by the rpm pace, and by the tpm pace. */
  private nextByRequests = -Infinity;
  private nextByTokens = -Infinity;
  private readonly queue: Waiter[] = [];
  private pausedUntil = 0;
  private requestsLeft: Allowance | undefined;
  private tokensLeft: Allowance | undefined;
  /** Tokens of each request in flight (taken off what a server says is left). */
  private readonly inFlight = new Set<{ tokens: number }>();
  private cancelTimer: (() => void) | undefined;
  private waiting: RateWait | undefined;

  constructor(
    readonly limits: RateLimits,
    private readonly onWait: (wait: RateWait | undefined) => void = () => {},
    private readonly clock: LimiterClock = realClock,
  ) {}

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
        limit: stated.limitRequests,
      };
    if (stated.remainingTokens !== undefined)
      this.tokensLeft = {
        left: stated.remainingTokens - others.reduce((n, e) => n + e.tokens, 0),
        until: now + (stated.tokensResetMs ?? 1000),
        limit: stated.limitTokens,
      };
    this.pump();
  }

  /** Until when a request of `tokens` must wait now, and why (undefined: it may go). */
  private waitFor(tokens: number, now: number): RateWait | undefined {
    this.requestsLeft = renewed(this.requestsLeft, now);
    this.tokensLeft = renewed(this.tokensLeft, now);
    const { rpm, tpm } = this.limits;
    const waits: RateWait[] = [];
    if (this.pausedUntil > now) waits.push({ reason: "Retry-After", untilMs: this.pausedUntil });
    const r = this.requestsLeft;
    if (r && r.until > now && r.left < 1)
      waits.push({ reason: "server: no requests left", untilMs: r.until });
    const t = this.tokensLeft;
    if (t && t.until > now && t.left < tokens)
      waits.push({ reason: "server: no tokens left", untilMs: t.until });
    if (this.nextByRequests > now)
      waits.push({ reason: `rpm ${rpm}`, untilMs: this.nextByRequests });
    if (this.nextByTokens > now) waits.push({ reason: `tpm ${tpm}`, untilMs: this.nextByTokens });
    if (waits.length === 0) return undefined;
    return waits.reduce((a, b) => (b.untilMs > a.untilMs ? b : a));
  }

  private pump(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const now = this.clock.now();
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
    const { rpm, tpm } = this.limits;
    // The pace: each start moves the next allowed start on by its share of a minute.
    if (rpm !== undefined) this.nextByRequests = Math.max(this.nextByRequests, now) + MINUTE / rpm;
    if (tpm !== undefined)
      this.nextByTokens = Math.max(this.nextByTokens, now) + (tokens * MINUTE) / tpm;
    if (this.requestsLeft) this.requestsLeft.left -= 1;
    if (this.tokensLeft) this.tokensLeft.left -= tokens;
    const entry = { tokens };
    this.inFlight.add(entry);
    return new Ticket(entry, () => {
      this.inFlight.delete(entry);
      this.pump();
    });
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

/**
 * Past its reset, an allowance is the server's whole window again (when it stated one) until its
 * next answer says more: a burst right after a reset must not exceed what the server takes. The
 * minute bound keeps a server that never answers again from holding requests forever.
 */
function renewed(a: Allowance | undefined, now: number): Allowance | undefined {
  if (!a || a.until > now) return a;
  if (a.limit === undefined) return undefined;
  return { left: a.limit, until: now + MINUTE, limit: undefined };
}

class Ticket implements RateTicket {
  private done = false;
  constructor(
    readonly entry: { tokens: number },
    private readonly onRelease: () => void,
  ) {}
  get tokens(): number {
    return this.entry.tokens;
  }
  release(): void {
    if (this.done) return;
    this.done = true;
    this.onRelease();
  }
}
