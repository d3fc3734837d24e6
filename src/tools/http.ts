// The HTTP tool: fetch with a timeout, retries with exponential backoff for transient failures
// (network errors, 408, 429, 5xx), JSON parsed when the response says it is JSON.
import { abortError, type Tool } from "./types.ts";

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  timeoutMs: number;
  retries: number;
}

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);
/** First retry after 100 ms, doubling, capped at 2 s: transient API errors clear in that range. */
const backoffMs = (attempt: number) => Math.min(2000, 100 * 2 ** attempt);

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

async function once(request: HttpRequest, signal: AbortSignal | undefined): Promise<unknown> {
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
        `HTTP ${request.method} ${request.url}: no response within ${request.timeoutMs} ms (raise timeoutMs?)`,
      );
    throw new HttpError(0, `HTTP ${request.method} ${request.url}: ${(err as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok)
    throw new HttpError(
      response.status,
      `HTTP ${response.status} from ${request.method} ${request.url}: ${text.slice(0, 200)}`,
    );
  const type = response.headers.get("content-type") ?? "";
  if (/[/+]json\b/.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(
        response.status,
        `HTTP ${request.method} ${request.url}: response says JSON but does not parse: ${text.slice(0, 100)}`,
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
        const status = err instanceof HttpError ? err.status : -1;
        const transient = status === 0 || TRANSIENT.has(status);
        if (!transient || attempt >= request.retries || signal?.aborted) throw err;
        await sleep(backoffMs(attempt), signal);
      }
    }
  },
};
