// The local HTTP tool server: node:http on 127.0.0.1 (a random free port), answering the
// workloads' tools after a Gamma-distributed delay, and counting every request so the harness
// can report "tool calls executed vs requested".
//
// Delays are a pure function of (seed, URL, how many times that URL was asked): the same call
// waits the same time whichever system makes it and in whatever order calls arrive. Bodies are
// computed once per URL and cached: the server shares the 2 cores with the systems it measures,
// and its own SQL work is not what is being benchmarked (the delay stands for the remote API).
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { generateDataset } from "../data/index.ts";
import { openLoadedDb } from "../data/load.ts";
import { Rng } from "../data/prng.ts";
import { answerRoute, ROUTES } from "./routes.ts";
import type { LatencyClass, RouteSpec } from "./routes.ts";

export interface DelayOptions {
  /** Mean delay of "fast" routes, ms (default 30: the paper's 3 s scaled down 100x). */
  fastMeanMs?: number;
  /** Mean delay of "slow" routes, ms (default 60: the paper's 6 s scaled down). */
  slowMeanMs?: number;
  /** Gamma shape k (default 4: coefficient of variation 1/sqrt(k) = 0.5). */
  shape?: number;
  /** Override a route's class or give it its own mean in ms. */
  perRoute?: Partial<Record<string, LatencyClass | number>>;
}

export interface ToolServerOptions {
  /** Seeds the delays (and the data, when the server loads it itself). */
  seed?: number;
  delays?: DelayOptions;
  /** A connection with the datasets already loaded; otherwise the server generates and loads
   * `datasets` itself from `seed` and `scale`. */
  connection?: DuckDBConnection;
  datasets?: ("imdb" | "articles" | "tpch")[];
  /** Per dataset scale (defaults: imdb 1, articles 1, tpch 0.01). */
  scale?: Partial<Record<"imdb" | "articles" | "tpch", number>>;
  port?: number;
}

export interface ToolServerStats {
  /** Requests answered (any status). */
  requests: number;
  /** Requests per route path. */
  byRoute: Record<string, number>;
  /** Distinct URLs asked. */
  distinctUrls: number;
  /** Sum of the delays slept, ms. */
  delayMsTotal: number;
  errors: number;
}

export interface ToolServer {
  url: string;
  port: number;
  stats(): ToolServerStats;
  /** Zeroes the counters and the per-URL occurrence counts (so each system measured sees the
   * same delay sequence); cached bodies stay. */
  resetStats(): void;
  close(): Promise<void>;
}

export function meanDelayMs(route: RouteSpec, delays: DelayOptions = {}): number {
  const override = delays.perRoute?.[route.path];
  if (typeof override === "number") return override;
  const cls = override ?? route.latency;
  return cls === "fast" ? (delays.fastMeanMs ?? 30) : (delays.slowMeanMs ?? 60);
}

/** The delay for the n-th request (0-based) of a URL: Gamma(k, mean/k). */
export function delayFor(seed: number, url: string, n: number, meanMs: number, shape = 4): number {
  if (meanMs <= 0) return 0;
  const rng = new Rng(seed).fork(url).child(n);
  return rng.gamma(shape, meanMs / shape);
}

/**
 * The shortest delay among the first `requests` requests of `url`: a client that asks for a URL
 * at most `requests` times waits at least this long for its answer, whichever request answers
 * first (the HTTP latency of the bench's floor, bench/harness/floor.ts).
 */
export function leastDelayMs(
  url: string,
  requests: number,
  seed: number,
  delays: DelayOptions = {},
): number {
  const parsed = new URL(url);
  const route = ROUTES.find((r) => r.path === parsed.pathname);
  if (!route) throw new Error(`no tool server route for ${url}`);
  const key = canonical(route.path, parsed.searchParams);
  const mean = meanDelayMs(route, delays);
  let least = Infinity;
  for (let n = 0; n < Math.max(1, requests); n++)
    least = Math.min(least, delayFor(seed, key, n, mean, delays.shape ?? 4));
  return least;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Canonical URL: path plus sorted query, so `?a=1&b=2` and `?b=2&a=1` are one call. */
function canonical(path: string, params: URLSearchParams): string {
  const entries = [...params.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${path}?${new URLSearchParams(entries).toString()}`;
}

export async function startToolServer(options: ToolServerOptions = {}): Promise<ToolServer> {
  const seed = options.seed ?? 42;
  const delays = options.delays ?? {};
  let connection = options.connection;
  let instance: DuckDBInstance | undefined;
  if (!connection) {
    const names = options.datasets ?? ["imdb", "articles", "tpch"];
    const db = await openLoadedDb(
      names.map((n) => generateDataset(n, { seed, scale: options.scale?.[n] })),
    );
    connection = db.connection;
    instance = db.instance;
  }
  const conn = connection;
  const routes = new Map(ROUTES.map((r) => [r.path, r]));
  const bodies = new Map<string, Promise<unknown>>();
  const asked = new Map<string, number>();
  const empty = (): ToolServerStats => ({
    requests: 0,
    byRoute: {},
    distinctUrls: 0,
    delayMsTotal: 0,
    errors: 0,
  });
  let stats = empty();
  const reset = () => {
    stats = empty();
    asked.clear();
  };
  // One DuckDB query at a time on the shared connection.
  let queue: Promise<unknown> = Promise.resolve();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/health") return send(res, 200, { ok: true });
    if (url.pathname === "/stats") {
      if (req.method === "POST") reset();
      return send(res, 200, stats);
    }
    stats.requests++;
    stats.byRoute[url.pathname] = (stats.byRoute[url.pathname] ?? 0) + 1;
    const route = routes.get(url.pathname as RouteSpec["path"]);
    if (!route || req.method !== "GET") {
      stats.errors++;
      return send(res, 404, {
        error: `no tool at ${req.method} ${url.pathname}; tools: ${[...routes.keys()].map((p) => `GET ${p}`).join(", ")}`,
      });
    }
    const params: Record<string, string> = {};
    for (const p of route.params) {
      const v = url.searchParams.get(p);
      if (v === null) {
        stats.errors++;
        return send(res, 400, {
          error: `${route.path} needs query parameter '${p}' (needs: ${route.params.join(", ")})`,
        });
      }
      params[p] = v;
    }
    const key = canonical(route.path, url.searchParams);
    const n = asked.get(key) ?? 0;
    asked.set(key, n + 1);
    stats.distinctUrls = asked.size;
    const delay = delayFor(seed, key, n, meanDelayMs(route, delays), delays.shape ?? 4);
    stats.delayMsTotal += delay;
    let body = bodies.get(key);
    if (!body) {
      body = queue = queue.then(
        () => answerRoute(conn, route, params),
        () => answerRoute(conn, route, params),
      );
      bodies.set(key, body);
    }
    const [value] = await Promise.all([body, new Promise((r) => setTimeout(r, delay))]);
    send(res, 200, value);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      stats.errors++;
      send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: () => structuredClone(stats),
    resetStats: reset,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (instance) {
        conn.closeSync();
        instance.closeSync();
      }
    },
  };
}
