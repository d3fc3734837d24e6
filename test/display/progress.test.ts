import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DisplayHost, MimeBundle } from "../../src/display/host.ts";
import { ProgressReporter, progressLine } from "../../src/display/progress.ts";
import { parseXml } from "./xml-check.ts";

function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function recordingHost() {
  const calls: { bundle: MimeBundle; options?: { id?: string; update?: boolean } }[] = [];
  const host: DisplayHost = {
    rich: true,
    display: (bundle, options) => void calls.push({ bundle, options }),
  };
  return { host, calls };
}

function recordingStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (s: string) => (writes.push(s), true) }, writes };
}

test("rich host: one display, then in-place updates with the same id", () => {
  const clock = fakeClock();
  const { host, calls } = recordingHost();
  const p = new ProgressReporter({ totalRows: 400, host, now: clock.now });
  for (let i = 0; i < 400; i++) {
    clock.advance(10);
    p.addRows();
  }
  p.finish();
  assert.ok(calls.length >= 2);
  const id = calls[0]!.options?.id;
  assert.type(id, "string");
  assert.is(calls[0]!.options?.update, undefined, "the first call creates the output");
  for (const c of calls.slice(1)) assert.equal(c.options, { id, update: true });
  const last = calls.at(-1)!.bundle;
  assert.match(last["text/plain"] as string, /400\/400 rows \(100%\).*done in 4\.00 s/);
  parseXml(last["text/html"] as string);
  assert.match(last["text/html"] as string, /width:100\.0%/);
});

test("throttled: 100,000 calls over 2 s render at most 4 times a second", () => {
  const clock = fakeClock();
  const { host, calls } = recordingHost();
  const p = new ProgressReporter({ totalRows: 100_000, host, now: clock.now, minIntervalMs: 250 });
  for (let i = 0; i < 100_000; i++) {
    clock.advance(0.02);
    p.addRows();
    p.addTokens({ prefill: 10, cached: 30, decode: 2 });
  }
  // 2000 ms / 250 ms = 8 intervals, plus the first render.
  assert.ok(p.renders <= 9, `${p.renders} renders`);
  assert.ok(p.renders >= 8, `${p.renders} renders`);
  assert.is(calls.length, p.renders);
  p.finish();
  p.finish();
  assert.is(calls.length, p.renders, "finish renders once");
});

test("a call that does not render is cheap (real clock)", () => {
  const { host } = recordingHost();
  const p = new ProgressReporter({ totalRows: 1e6, host });
  const n = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) p.addRows();
  const ns = ((performance.now() - t0) * 1e6) / n;
  console.log(
    `measure: ProgressReporter.addRows ${ns.toFixed(0)} ns per call, ${p.renders} renders`,
  );
  assert.is(p.snapshot().rowsDone, n);
});

test("snapshot: tokens per second, cache hit rate, tools in flight, remaining time", () => {
  const clock = fakeClock();
  const { host } = recordingHost();
  const p = new ProgressReporter({ totalRows: 400, host, now: clock.now });
  clock.advance(2000);
  p.addRows(100);
  p.addTokens({ prefill: 1000, cached: 3000, decode: 1000 });
  p.toolStarted(3);
  p.toolFinished();
  const s = p.snapshot();
  assert.is(s.tokensPerSecond, 1000);
  assert.is(s.cacheHitRate, 0.75);
  assert.is(s.toolCallsInFlight, 2);
  assert.is(s.remainingMs, 6000);
  assert.is(
    progressLine(s),
    "collect 100/400 rows (25%) · 1.00k tok/s · cache 75% · 2 tool calls in flight · 2.00 s, ~6.00 s left",
  );
});

test("unknown total: no percentage, no estimate", () => {
  const clock = fakeClock();
  const { host } = recordingHost();
  const p = new ProgressReporter({ host, now: clock.now, label: "scan" });
  clock.advance(500);
  p.addRows(7);
  assert.is(progressLine(p.snapshot()), "scan 7 rows · 500 ms");
});

test("terminal TTY: one line rewritten with \\r, ended by finish", () => {
  const clock = fakeClock();
  const { stream, writes } = recordingStream(true);
  const p = new ProgressReporter({
    totalRows: 10,
    host: { rich: false, display() {} },
    stream,
    now: clock.now,
  });
  for (let i = 0; i < 10; i++) {
    clock.advance(300);
    p.addRows();
  }
  p.finish();
  assert.ok(writes.length >= 10);
  for (const w of writes) assert.ok(w.startsWith("\r"), JSON.stringify(w));
  assert.not.ok(writes.slice(0, -1).some((w) => w.includes("\n")));
  assert.ok(writes.at(-1)!.endsWith("\n"));
  assert.match(writes.at(-1)!, /10\/10 rows \(100%\) · done in 3\.00 s/);
});

test("terminal without TTY (logs, CI): occasional whole lines", () => {
  const clock = fakeClock();
  const { stream, writes } = recordingStream(false);
  const p = new ProgressReporter({
    totalRows: 1000,
    host: { rich: false, display() {} },
    stream,
    now: clock.now,
    logIntervalMs: 5000,
  });
  for (let i = 0; i < 1000; i++) {
    clock.advance(20); // 20 s in all
    p.addRows();
  }
  p.finish();
  // One line about every 5 s plus the final one.
  assert.ok(writes.length >= 4 && writes.length <= 6, `${writes.length} lines`);
  for (const w of writes) assert.ok(w.endsWith("\n") && !w.includes("\r"));
});

test("a cancelled collect ends as cancelled, not done", () => {
  const clock = fakeClock();
  const { host, calls } = recordingHost();
  const p = new ProgressReporter({ totalRows: 10, host, now: clock.now });
  clock.advance(1500);
  p.addRows(3);
  p.finish("cancelled");
  const last = calls.at(-1)!.bundle;
  assert.match(last["text/plain"] as string, /3\/10 rows \(30%\) · cancelled after 1\.50 s$/);
  assert.match(last["text/html"] as string, /cancelled/);
  assert.is(p.snapshot().outcome, "cancelled");
});

test("bad totals are refused with the reason", () => {
  assert.throws(
    () => new ProgressReporter({ totalRows: -1 }),
    /totalRows must be a count >= 0, got -1/,
  );
});

test("waits a server imposes show with their time left, longest first, and go when withdrawn", () => {
  const clock = fakeClock();
  const { host } = recordingHost();
  const p = new ProgressReporter({ totalRows: 10, host, now: clock.now, label: "collect" });
  p.setWaits([
    { label: "rpm 60 at api.example.com", ms: 800 },
    { label: "Retry-After at 10.0.0.5:8000", ms: 4200 },
  ]);
  clock.advance(200);
  const s = p.snapshot();
  assert.equal(s.waits, [
    { label: "Retry-After at 10.0.0.5:8000", remainingMs: 4000 },
    { label: "rpm 60 at api.example.com", remainingMs: 600 },
  ]);
  assert.match(progressLine(s), /waiting 4\.00 s: Retry-After at 10\.0\.0\.5:8000 \(\+1 more\)/);
  p.setWaits([]);
  assert.not.match(progressLine(p.snapshot()), /waiting/);
});

test.run();
