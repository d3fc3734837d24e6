// A real HTTP server on 127.0.0.1 for tool-pool tests: slow, flaky and failing endpoints, with
// counters the tests read (requests per URL, concurrency, requests the client aborted).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HttpFixture {
  base: string;
  hits: Map<string, number>;
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly aborted: number;
  close(): Promise<void>;
}

export async function startHttpFixture(): Promise<HttpFixture> {
  const hits = new Map<string, number>();
  const failuresLeft = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let aborted = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let finished = false;
    const finish = (status: number, body: unknown) => {
      if (finished) return;
      finished = true;
      inFlight--;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    res.on("close", () => {
      if (!finished) {
        finished = true;
        inFlight--;
        aborted++;
      }
    });
    const id = url.searchParams.get("id") ?? "";
    const ms = Number(url.searchParams.get("ms") ?? 0);
    if (url.pathname === "/slow") {
      setTimeout(() => finish(200, { id }), ms);
    } else if (url.pathname === "/flaky") {
      const left = failuresLeft.get(id) ?? Number(url.searchParams.get("fail") ?? 0);
      failuresLeft.set(id, left - 1);
      if (left > 0) finish(503, { error: "busy" });
      else finish(200, { id });
    } else if (url.pathname === "/bad") {
      finish(400, { error: "bad request" });
    } else finish(404, { error: "no such path" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get aborted() {
      return aborted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A minimal HTTP tool: GET a path, JSON back, non-2xx thrown with its status. */
export function httpGet(base: string) {
  return async (args: { path: string }, { signal }: { signal: AbortSignal }) => {
    const response = await fetch(base + args.path, { signal });
    const body: unknown = await response.json();
    if (!response.ok) {
      throw Object.assign(new Error(`HTTP ${response.status} for ${args.path}`), {
        status: response.status,
      });
    }
    return body as { id: string };
  };
}
