// Reading and writing HTTP bodies for the server: JSON in with a size limit (413 before reading
// when Content-Length already says too much, and while reading when it lied or was absent), JSON
// and NDJSON out, errors in OpenAI's shape `{ "error": { "message", "type", "param", "code" } }`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, errorType } from "./http-error.ts";

export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes)
    throw new HttpError(
      413,
      `request body of ${declared} bytes is over the limit of ${limitBytes}`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes)
      throw new HttpError(413, `request body is over the limit of ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const type = String(req.headers["content-type"] ?? "application/json");
  if (!/^application\/(.+\+)?json\b/i.test(type))
    throw new HttpError(
      400,
      `expected a JSON body (Content-Type: application/json), got '${type}'`,
    );
  const text = await readBody(req, limitBytes);
  if (text.trim() === "") throw new HttpError(400, "the request body is empty; send a JSON object");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * JSON text of a result. DuckDB hands BIGINT columns over as bigint, which JSON.stringify
 * refuses: within 2^53 they become numbers, beyond it strings (digits kept exactly).
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v,
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = toJson(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, type: string): void {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: errorBody(error) }, error.headers);
}

/** OpenAI's error object: `message`, `type`, `param` and `code` (null when they do not apply). */
export function errorBody(error: HttpError) {
  return {
    message: error.message,
    type: errorType(error.status),
    param: error.param,
    code: error.code ?? defaultCode(error.status),
  };
}

function defaultCode(status: number): string | null {
  if (status === 401) return "invalid_api_key";
  if (status === 429) return "rate_limit_exceeded";
  return null;
}

/** True when a client asked for NDJSON (`?stream=true` or an Accept header naming it). */
export function wantsStream(req: IncomingMessage, url: URL): boolean {
  const flag = url.searchParams.get("stream");
  if (flag !== null) return flag === "" || flag === "true" || flag === "1";
  return /application\/(x-)?ndjson/i.test(String(req.headers.accept ?? ""));
}
