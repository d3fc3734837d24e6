// The HTTP tool: fetch with a timeout per attempt (response and body), retries with exponential
// backoff for transient failures (no response, a connection cut mid-body, a body too slow, 408,
// 425, 429, 5xx) that wait as long as the server's Retry-After asks (within a bound), JSON parsed
// when the response says it is JSON. Every error names the method and URL (and the status).
import { abortError, type Tool } from "./types.ts";

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Per attempt: until the whole body has arrived. */
  timeoutMs: number;
  retries: number;
}

export class HttpError extends Error {
  /** The response's status; 0 when none came (network, timeout, connection cut mid-body). */
  readonly status: number;
  /** How long the server asked to wait before retrying (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(status: number, message: string, retryAfterMs?: number) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);
/** First retry after 100 ms, doubling, capped at 2 s: transient API errors clear in that range. */
const backoffMs = (attempt: number) => Math.min(2000, 100 * 2 ** attempt);
/**
 * The longest Retry-After honoured. A row waits on its retries, so a server asking for minutes
 * (a quota reset) fails the row at once with what it asked, rather than stalling the collect.
 */
export const MAX_RETRY_AFTER_MS = 30_000;

/**
 * The longest one call can take, every attempt, backoff and honoured Retry-After included: a
 * deadline that guards only a tool that never returns (the Processor's pool), never a slow but
 * live retry sequence. 2 s of slack per attempt covers connecting and reading headers.
 */
export function httpWorstCaseMs(request: { retries: number; timeoutMs: number }): number {
  const waits = request.retries * Math.max(MAX_RETRY_AFTER_MS, backoffMs(request.retries));
  return (request.retries + 1) * (request.timeoutMs + 2000) + waits;
}

/** Retry-After in ms: delay-seconds or an HTTP-date (RFC 9110 10.2.3); undefined if unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form starts with the day's name; Date.parse alone would take "-5" as a year.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** fetch's own errors say `fetch failed` or `terminated`; the cause says what happened. */
function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause;
  const detail = cause?.message || e.message || String(err);
  return cause?.code ? `${detail} (${cause.code})` : detail;
}

async function once(request: HttpRequest, signal: AbortSignal | undefined): Promise<unknown> {
  const where = `${request.method} ${request.url}`;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const headers = { ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined && request.body !== null) {
    if (typeof request.body === "string") body = request.body;
    else {
      body = JSON.stringify(request.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
        headers["content-type"] = "application/json";
    }
  }
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers,
      body,
      signal: combined,
    });
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    if (timeout.aborted)
      throw new HttpError(
        0,
        `HTTP ${where}: no response within ${request.timeoutMs} ms (raise timeoutMs?)`,
      );
    throw new HttpError(0, `HTTP ${where}: ${networkReason(err)}`);
  }
  // The body can fail after the status arrived: a server that dies or stalls mid-body.
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    if (timeout.aborted)
      throw new HttpError(
        0,
        `HTTP ${where}: status ${response.status} came but the body did not finish within ${request.timeoutMs} ms (raise timeoutMs?)`,
      );
    throw new HttpError(
      0,
      `HTTP ${where}: the connection was cut while reading the body of a ${response.status} response: ${networkReason(err)}`,
    );
  }
  if (!response.ok)
    throw new HttpError(
      response.status,
      `HTTP ${response.status} from ${where}: ${text.slice(0, 200)}`,
      parseRetryAfter(response.headers.get("retry-after")),
    );
  const type = response.headers.get("content-type") ?? "";
  if (/[/+]json\b/.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(
        response.status,
        `HTTP ${where}: response says JSON but does not parse: ${text.slice(0, 100)}`,
      );
    }
  }
  return text;
}

export const httpTool: Tool<HttpRequest> = {
  kind: "http",
  async call(request, { signal }) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(request, signal);
      } catch (err) {
        // Anything else is an abort: it ends the call as it is.
        if (!(err instanceof HttpError) || signal?.aborted) throw err;
        if (err.status !== 0 && !TRANSIENT.has(err.status)) throw err;
        if (attempt >= request.retries) {
          if (attempt > 0) err.message += ` (after ${attempt + 1} attempts)`;
          throw err;
        }
        const asked = err.retryAfterMs;
        if (asked !== undefined && asked > MAX_RETRY_AFTER_MS) {
          err.message += ` (the server asks to retry after ${Math.ceil(asked / 1000)} s, longer than the ${MAX_RETRY_AFTER_MS / 1000} s Halo waits)`;
          throw err;
        }
        await sleep(Math.max(asked ?? 0, backoffMs(attempt)), signal);
      }
    }
  },
};
