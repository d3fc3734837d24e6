// Reading what a server says about its limits: Retry-After (seconds, a date, retry-after-ms), the
// x-ratelimit-* family, and OpenAI's durations ("6m0s", "1.5s", "20ms").
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  durationMs,
  retryAfterMs,
  retryWaitMs,
  statedLimits,
} from "../../../src/runtime/openai/rate-headers.ts";

test("durations as OpenAI writes them", () => {
  const cases: [string | null, number | undefined][] = [
    ["1s", 1000],
    ["6m0s", 360_000],
    ["1.5s", 1500],
    ["20ms", 20],
    ["1h2m3s", 3_723_000],
    ["2", 2000],
    ["0.25", 250],
    ["", undefined],
    [null, undefined],
    ["soon", undefined],
    ["5x", undefined],
    ["1s junk", undefined],
  ];
  for (const [text, ms] of cases) assert.is(durationMs(text), ms, String(text));
});

test("Retry-After in seconds or as a date; retry-after-ms first; else a window that ran out", () => {
  assert.is(retryAfterMs("2"), 2000);
  assert.is(retryAfterMs(""), undefined);
  assert.is(retryAfterMs("soon"), undefined);
  const date = new Date(Date.now() + 5000).toUTCString();
  assert.ok((retryAfterMs(date) ?? 0) > 3000);
  assert.is(retryWaitMs(new Headers({ "retry-after-ms": "150", "retry-after": "9" })), 150);
  assert.is(retryWaitMs(new Headers({ "retry-after": "3" })), 3000);
  assert.is(
    retryWaitMs(
      new Headers({
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1.2s",
        "x-ratelimit-remaining-tokens": "500",
        "x-ratelimit-reset-tokens": "20ms",
      }),
    ),
    1200,
  );
  assert.is(retryWaitMs(new Headers()), undefined);
});

test("x-ratelimit-* read into what is left and when it resets", () => {
  assert.equal(
    statedLimits(
      new Headers({
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-remaining-tokens": "149984",
        "x-ratelimit-reset-tokens": "6m0s",
      }),
    ),
    {
      limitRequests: 60,
      remainingRequests: 59,
      remainingTokens: 149984,
      requestsResetMs: 1000,
      tokensResetMs: 360_000,
    },
  );
  assert.equal(statedLimits(new Headers({ "x-ratelimit-remaining-requests": "-1" })), {});
});

test.run();
