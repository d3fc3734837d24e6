// A plain node:http server in front of a CompletionsService on 127.0.0.1 (a free port), standing
// in for `halo serve`'s route in tests: JSON in, the service's JSON out, an HttpError as its
// status with an OpenAI-style error body. `before` lets a test answer instead (503s, counting).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CompletionsService } from "../../../src/serve/completions.ts";
import { HttpError, errorType } from "../../../src/serve/http-error.ts";

export interface TestServer {
  url: string;
  /** Requests received on /v1/completions, answered or not. */
  requests: number;
  close(): Promise<void>;
}

export async function startCompletionsServer(
  service: CompletionsService,
  before?: (body: unknown, res: ServerResponse) => boolean,
): Promise<TestServer> {
  const state = { requests: 0 };
  const server = createServer((req, res) => void answer(req, res));
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort(new Error("client went away"));
    });
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(json));
    };
    if (req.method !== "POST" || req.url !== "/v1/completions")
      return send(404, { error: { message: "not found", type: "not_found_error" } });
    state.requests++;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return send(400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
    }
    if (before?.(body, res)) return;
    try {
      send(200, await service.handle(body, abort.signal));
    } catch (error) {
      if (error instanceof HttpError)
        send(
          error.status,
          { error: { message: error.message, type: errorType(error.status) } },
          error.headers,
        );
      else send(500, { error: { message: String(error), type: "server_error" } });
    }
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POSTs a JSON body to /v1/completions; returns status and parsed JSON. */
export async function postCompletions(
  url: string,
  body: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}
