// What a server says about its rate limits, read from response headers: `Retry-After` (seconds or
// an HTTP date; `retry-after-ms` where a server sends it) and OpenAI's `x-ratelimit-*` family
// (`limit-requests` / `limit-tokens` per window, `remaining-requests` / `remaining-tokens` left in
// the current one and `reset-requests` / `reset-tokens`, the time until it refills, written like
// "1s", "6m0s" or "20ms").

export interface StatedLimits {
  /** The window's whole allowance (`x-ratelimit-limit-requests` / `-tokens`). */
  limitRequests?: number;
  limitTokens?: number;
  /** Requests the server will still take before `requestsResetMs`. */
  remainingRequests?: number;
  requestsResetMs?: number;
  /** Tokens the server will still take before `tokensResetMs`. */
  remainingTokens?: number;
  tokensResetMs?: number;
}

/** Retry-After as seconds or an HTTP date (or retry-after-ms), in ms; undefined when absent. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (header.trim() !== "" && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait a refused request should take before trying again, when the server says one. */
export function retryWaitMs(headers: Headers): number | undefined {
  const ms = Number(headers.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const after = retryAfterMs(headers.get("retry-after"));
  if (after !== undefined) return after;
  // No Retry-After: the sooner of the windows that ran out.
  const stated = statedLimits(headers);
  const resets = [
    stated.remainingRequests === 0 ? stated.requestsResetMs : undefined,
    stated.remainingTokens === 0 ? stated.tokensResetMs : undefined,
  ].filter((x): x is number => x !== undefined);
  return resets.length > 0 ? Math.min(...resets) : undefined;
}

export function statedLimits(headers: Headers): StatedLimits {
  const out: StatedLimits = {};
  const count = (name: string) => {
    const v = Number(headers.get(name) ?? NaN);
    return Number.isFinite(v) && v >= 0 ? v : undefined;
  };
  const limitRequests = count("x-ratelimit-limit-requests");
  const limitTokens = count("x-ratelimit-limit-tokens");
  const requests = count("x-ratelimit-remaining-requests");
  const tokens = count("x-ratelimit-remaining-tokens");
  const requestsReset = durationMs(headers.get("x-ratelimit-reset-requests"));
  const tokensReset = durationMs(headers.get("x-ratelimit-reset-tokens"));
  if (limitRequests !== undefined) out.limitRequests = limitRequests;
  if (limitTokens !== undefined) out.limitTokens = limitTokens;
  if (requests !== undefined) out.remainingRequests = requests;
  if (tokens !== undefined) out.remainingTokens = tokens;
  if (requestsReset !== undefined) out.requestsResetMs = requestsReset;
  if (tokensReset !== undefined) out.tokensResetMs = tokensReset;
  return out;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** "6m0s", "1.5s", "20ms", "1h2m" or bare seconds ("2") in ms; undefined when unreadable. */
export function durationMs(text: string | null): number | undefined {
  if (!text) return undefined;
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== t) return undefined;
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}
