// An error that knows its HTTP status: route handlers throw it for a request the server refuses
// (400 malformed, 401 no token, 404, 413 too large, 429 queue full, 503 shutting down), and the
// server turns it into OpenAI's error body `{ "error": { "message", "type", "param", "code" } }`,
// which OpenAI clients parse. Any other error thrown by a handler is a 500 and is logged.
export class HttpError extends Error {
  readonly status: number;
  /** Extra response headers, e.g. Retry-After on a 429. */
  readonly headers: Record<string, string>;
  /** OpenAI's `param`: the request field at fault, when one is. */
  readonly param: string | null;
  /** OpenAI's `code`, e.g. "model_not_found", "context_length_exceeded". */
  readonly code: string | null;
  constructor(
    status: number,
    message: string,
    headers: Record<string, string> = {},
    detail: { param?: string; code?: string } = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
    this.param = detail.param ?? null;
    this.code = detail.code ?? null;
  }
}

/** The `type` field of an error body, from the status (OpenAI's names where they exist). */
export function errorType(status: number): string {
  if (status === 400 || status === 413) return "invalid_request_error";
  if (status === 401) return "authentication_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 503) return "unavailable_error";
  return "server_error";
}
