// The client-side rate limiter on a fake clock, so every count is exact: no more requests or
// tokens start in any minute (and any second) than the limits allow, the server's stated
// remaining counts and a 429's pause hold everything back until they pass, waiting requests keep
// their order, and an impossible request fails at once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  RateLimiter,
  type LimiterClock,
  type RateTicket,
  type RateWait,
} from "../../../src/runtime/openai/rate-limiter.ts";

/** A clock whose time moves only when the test says so. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: LimiterClock = {
    now: () => now,
    setTimer(fn, ms) {
      const t = { at: now + Math.max(0, ms), fn };
      timers.push(t);
      return () => (timers = timers.filter((x) => x !== t));
    },
  };
  /** Moves time forward, firing timers in order (promise callbacks run between them). */
  async function advance(ms: number) {
    const end = now + ms;
    for (;;) {
      await flush();
      const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      timers = timers.filter((t) => t !== next);
      now = next.at;
      next.fn();
    }
    now = end;
    await flush();
  }
  return { clock, advance, time: () => now };
}

const flush = () => new Promise((r) => setImmediate(r));

/** Starts `n` acquisitions of `tokens` each and records when each was granted. */
function startMany(limiter: RateLimiter, n: number, tokens: number, time: () => number) {
  const granted: { i: number; at: number; ticket: RateTicket }[] = [];
  for (let i = 0; i < n; i++)
    void limiter.acquire(tokens).then((ticket) => granted.push({ i, at: time(), ticket }));
  return granted;
}

/** The most starts in any window of `span` ms. */
function mostInWindow(times: number[], span: number, weights?: number[]): number {
  let most = 0;
  for (let i = 0; i < times.length; i++) {
    let sum = 0;
    for (let j = 0; j < times.length; j++)
      if (times[j]! >= times[i]! && times[j]! < times[i]! + span) sum += weights?.[j] ?? 1;
    most = Math.max(most, sum);
  }
  return most;
}

test("rpm: starts evenly paced, never more than rpm in a minute, in arrival order", async () => {
  const { clock, advance, time } = fakeClock();
  const limiter = new RateLimiter({ rpm: 120 }, undefined, clock);
  const granted = startMany(limiter, 300, 1, time);
  await advance(200_000);
  assert.is(granted.length, 300);
  const times = granted.map((g) => g.at);
  assert.is(mostInWindow(times, 60_000), 120);
  assert.is(mostInWindow(times, 1000), 2);
  assert.equal(
    granted.map((g) => g.i),
    [...Array(300).keys()],
  );
  // 300 requests 500 ms apart: the last starts at 149.5 s, not sooner
  assert.is(times.at(-1), 149_500);
});

test("tpm: a request holds the next back by its share of a minute", async () => {
  const { clock, advance, time } = fakeClock();
  const limiter = new RateLimiter({ tpm: 6000 }, undefined, clock);
  // 6000 a minute is 10 ms a token: 50 tokens, 500 ms; 10 tokens, 100 ms
  const parts = [
    startMany(limiter, 2, 50, time),
    startMany(limiter, 2, 10, time),
    startMany(limiter, 1, 50, time),
  ];
  await advance(60_000);
  const granted = parts.flat();
  assert.equal(
    granted.map((g) => g.at),
    [0, 500, 1000, 1100, 1200],
  );
  const sorted = [...granted].sort((a, b) => a.at - b.at);
  assert.ok(
    mostInWindow(
      sorted.map((g) => g.at),
      60_000,
      sorted.map((g) => g.ticket.tokens),
    ) <= 6000,
  );
});

test("a request larger than tpm fails at once, naming the limit", async () => {
  const limiter = new RateLimiter({ tpm: 1000 }, undefined, fakeClock().clock);
  await limiter.acquire(1001).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /about 1001 tokens .* more than limits\.tpm 1000/),
  );
  // a request above a second's share still goes, alone in its second
  const ticket = await limiter.acquire(900);
  assert.is(ticket.tokens, 900);
});

test("the server's remaining counts: nothing beyond them before the reset", async () => {
  const { clock, advance, time } = fakeClock();
  const limiter = new RateLimiter({}, undefined, clock);
  const first = await limiter.acquire(10);
  // two more in flight before the server answers the first
  const inFlight = startMany(limiter, 2, 10, time);
  await advance(1);
  assert.is(inFlight.length, 2);
  // the server: 3 requests left for 1 s; 2 of ours may not be counted yet, so 1 more goes
  limiter.observe({ remainingRequests: 3, requestsResetMs: 1000 }, first);
  first.release();
  const later = startMany(limiter, 5, 10, time);
  await advance(10);
  assert.is(later.length, 1);
  await advance(1000);
  assert.is(later.length, 5);
  assert.ok(later.slice(1).every((g) => g.at >= 1000));
  // tokens the same way
  const t = await limiter.acquire(10);
  limiter.observe({ remainingTokens: 100, tokensResetMs: 5000 }, t);
  const big = startMany(limiter, 1, 200, time);
  await advance(4000);
  assert.is(big.length, 0);
  await advance(2000);
  assert.is(big.length, 1);
});

test("after a reset, no more than the server's stated window goes until it speaks again", async () => {
  const { clock, advance, time } = fakeClock();
  const limiter = new RateLimiter({}, undefined, clock);
  const t = await limiter.acquire(1);
  limiter.observe({ limitRequests: 3, remainingRequests: 0, requestsResetMs: 1000 }, t);
  t.release();
  const granted = startMany(limiter, 5, 1, time);
  await advance(999);
  assert.is(granted.length, 0);
  await advance(10);
  assert.is(granted.length, 3);
  // the server answers the first of them: 1 left in its new window
  limiter.observe(
    { limitRequests: 3, remainingRequests: 1, requestsResetMs: 900 },
    granted[0]!.ticket,
  );
  await advance(10);
  assert.is(granted.length, 3, "two of ours are still in flight: nothing is left");
  await advance(1000);
  assert.is(granted.length, 5);
});

test("a pause (429 Retry-After) holds every request; waits are reported, then cleared", async () => {
  const { clock, advance, time } = fakeClock();
  const waits: (RateWait | undefined)[] = [];
  const limiter = new RateLimiter({}, (w) => waits.push(w), clock);
  limiter.pause(3000);
  const granted = startMany(limiter, 3, 1, time);
  await advance(2999);
  assert.is(granted.length, 0);
  assert.equal(waits[0], { reason: "Retry-After", untilMs: 3000 });
  await advance(1);
  assert.equal(
    granted.map((g) => g.at),
    [3000, 3000, 3000],
  );
  assert.is(waits.at(-1), undefined);
});

test("an aborted wait leaves the queue; the ones behind it go on", async () => {
  const { clock, advance, time } = fakeClock();
  const limiter = new RateLimiter({ rpm: 60 }, undefined, clock);
  await limiter.acquire(1);
  const controller = new AbortController();
  const aborted = limiter.acquire(1, controller.signal);
  const behind = startMany(limiter, 1, 1, time);
  controller.abort(new Error("cell interrupted"));
  await aborted.then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /cell interrupted/),
  );
  await advance(1000);
  assert.equal(
    behind.map((g) => g.at),
    [1000],
  );
});

test.run();
