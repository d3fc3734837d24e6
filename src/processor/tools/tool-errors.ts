// Errors the tool pool raises, and which failures are worth a retry.

export class ToolTimeoutError extends Error {
  override readonly name = "ToolTimeoutError";
  constructor(
    readonly tool: string,
    readonly timeoutMs: number,
  ) {
    super(
      `tool '${tool}' did not answer within ${timeoutMs} ms: raise its timeoutMs if it is slow by nature, or check the service`,
    );
  }
}

/** Raised when a caller's AbortSignal fires; `cause` is the signal's reason. */
export class ToolAbortedError extends Error {
  override readonly name = "AbortError";
  constructor(tool: string, reason: unknown) {
    super(`tool '${tool}' was cancelled`, { cause: reason });
  }
}

/** HTTP statuses that mean "try again later": timeout, too early, rate limited, server trouble. */
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Socket-level failures that a new connection usually fixes. */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * The default retry rule: timeouts, transient HTTP statuses (`status` or `statusCode` on the
 * error), socket errors (`code`, also on `cause` as fetch wraps them), or `transient: true` set by
 * a tool. Everything else (bad SQL, a 400, a thrown bug) fails at once: retrying cannot fix it.
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof ToolTimeoutError) return true;
  if (typeof error !== "object" || error === null) return false;
  const e = error as Record<string, unknown>;
  if (e.transient === true) return true;
  const status = e.status ?? e.statusCode;
  if (typeof status === "number" && TRANSIENT_STATUS.has(status)) return true;
  for (const source of [e, e.cause as Record<string, unknown> | undefined]) {
    const code = source?.code;
    if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  }
  return false;
}
