// `halo serve`'s HTTP server: registered workflows answer streams of queries (workflow-session.ts),
// the OpenAI API answers for a local model and the workflows (openai/), `/metrics` and
// `/healthz` say how it goes. One Processor (its LLM workers and prefix KV caches per model, one
// tool-result cache, the cost model it learns into) serves every workflow and the OpenAI routes,
// so work shared between clients and between batches is done once.
//
// Least privilege: two bearer tokens with separate scopes. The query token (`--token`) runs
// registered workflows; the admin token (`--admin-token`) registers, lists and deletes them, and
// without one those routes are off (workflows come from the operator's --workflow files). SQL of
// served workflows runs on databases of the server's own (served-sql.ts). docs/serving.md has the
// threat model.
//
// Routes (JSON unless said otherwise; errors are `{ "error": { "message", "type", "param", "code" } }`):
//   GET    /healthz                       {status, workflows, queued, running}       no token
//   GET    /metrics                       Prometheus text format                     either token
//   GET    /v1/workflows                  the registered workflows                   admin
//   POST   /v1/workflows                  {name?, yaml, replace?} -> 201 {name, steps}  admin
//   DELETE /v1/workflows/NAME             unregister (409 while it has queries)      admin
//   POST   /v1/workflows/NAME/queries     {queries: [row, ...]} or {query: row}      query
//                                          -> {results: [...]}, or NDJSON as each query finishes
//                                             with ?stream=true or Accept: application/x-ndjson
//   GET    /v1/models                     OpenAI API (openai/openai-routes.ts):      query
//   POST   /v1/chat/completions             the local model, and workflows as models
//   POST   /v1/completions                  `workflow/NAME`; streamed with stream: true
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import { workflow as compileWorkflow, type WorkflowOptions } from "../frame/workflow.ts";
import { Processor } from "../processor/processor.ts";
import { HttpError } from "./http-error.ts";
import {
  readBody,
  readJson,
  sendError,
  sendJson,
  sendText,
  toJson,
  wantsStream,
} from "./http-io.ts";
import { ServerMetrics } from "./metrics.ts";
import { OPENAI_ROUTES, OpenAiRoutes } from "./openai/openai-routes.ts";
import {
  checkPostgresRole,
  openServedDatabases,
  type ServedDatabases,
  type ServedSqlOptions,
} from "./served-sql.ts";
import { BoundedToolCache } from "./tool-result-cache.ts";
import { WorkflowSession, type QueryAnswer } from "./workflow-session.ts";

import type { CompletionsService } from "./completions.ts";
export type { CompletionsService };

export interface ServeOptions extends WorkflowOptions, ServedSqlOptions {
  /** Default 127.0.0.1. Anything not loopback needs a token. */
  host?: string;
  /** Default 8808; 0 picks a free port. */
  port?: number;
  /** Bearer token for queries, the OpenAI routes and /metrics (open on loopback without one). */
  token?: string;
  /** Bearer token for registering, listing and deleting workflows; without it those are off. */
  adminToken?: string;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** Per workflow: most queries waiting (default 1,024). */
  maxQueue?: number;
  /** Per query (default 120 s). */
  timeoutMs?: number;
  /** Latency a mini-batch should stay under (default 2 s); see batch-cadence.ts. */
  batchTargetMs?: number;
  /** Most queries per mini-batch (default 256). */
  maxBatch?: number;
  /** The model the OpenAI routes answer for, on the server's Processor; absent: workflows only. */
  completions?: (processor: Processor) => Promise<CompletionsService>;
  /** The Processor everything runs on (default: one of its own, tool results kept across batches). */
  processor?: Processor;
  /** Log lines (default: stderr). */
  log?: (line: string) => void;
}

/** Who may call a route: nobody needs a token, the query token, the admin token, or either. */
type Scope = "open" | "query" | "admin" | "either";

const SCOPES = new Map<string, Scope>([
  ["GET /healthz", "open"],
  ["GET /metrics", "either"],
  ["GET /v1/workflows", "admin"],
  ["POST /v1/workflows", "admin"],
  ["DELETE /v1/workflows/NAME", "admin"],
  ["POST /v1/workflows/NAME/queries", "query"],
  ...OPENAI_ROUTES.flatMap(([, methods, name]) =>
    methods.map((m): [string, Scope] => [`${m} ${name}`, "query"]),
  ),
]);

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith("127.");
}

export class HaloServer {
  readonly metrics = new ServerMetrics();
  private readonly sessions = new Map<string, WorkflowSession>();
  readonly processor: Processor;
  private readonly databases: ServedDatabases;
  /** What compiling a workflow may reach: the operator's functions and the served databases. */
  private readonly workflowOptions: WorkflowOptions;
  private readonly http: Server;
  private completions: Promise<CompletionsService> | undefined;
  private readonly openai: OpenAiRoutes;
  private draining = false;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ServeOptions = {}) {
    this.log = options.log ?? ((line) => process.stderr.write(`halo serve: ${line}\n`));
    this.processor = options.processor ?? new Processor({ toolResults: new BoundedToolCache() });
    this.databases = openServedDatabases(options);
    for (const name of Object.keys(this.databases.postgres))
      if (Object.hasOwn(options.databases ?? {}, name))
        throw new Error(`database '${name}' is given twice (postgres and databases)`);
    this.workflowOptions = {
      functions: options.functions,
      databases: { ...options.databases, ...this.databases.postgres },
      defaultDatabase: this.databases.duckdb,
    };
    this.http = createServer((req, res) => void this.dispatch(req, res));
    this.openai = new OpenAiRoutes({
      completions: () => {
        if (!this.options.completions) return undefined;
        return (this.completions ??= this.options.completions(this.processor));
      },
      workflow: (name) => this.sessions.get(name),
      workflowNames: () => [...this.sessions.keys()],
      metrics: this.metrics,
      log: this.log,
    });
  }

  /** The base URL once listening. */
  url = "";

  async listen(): Promise<string> {
    const host = this.options.host ?? "127.0.0.1";
    const port = this.options.port ?? 8808;
    if (!isLoopback(host)) {
      if (!this.options.token)
        throw new Error(
          `--host ${host} is reachable from other machines: set a token (--token T or HALO_TOKEN) so only clients that know it get in`,
        );
      this.log(`warning: listening on ${host}, not loopback; every request needs a token`);
    }
    if (this.options.adminToken !== undefined && this.options.adminToken === this.options.token)
      throw new Error(
        "the admin token must differ from the query token: a query client must not be able to register workflows",
      );
    for (const [name, db] of Object.entries(this.databases.postgres))
      await checkPostgresRole(name, db);
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => resolve());
    });
    const address = this.http.address() as AddressInfo;
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.url = `http://${shown}:${address.port}`;
    return this.url;
  }

  /** Registers a workflow from YAML text (or a Workflow); the name defaults to the YAML's. */
  register(yaml: string, name?: string, replace = false): WorkflowSession {
    let compiled;
    try {
      compiled = compileWorkflow(yaml, this.workflowOptions);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    const key = name ?? compiled.name;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key))
      throw new HttpError(400, `workflow name '${key}': use 1-64 letters, digits, '_', '.', '-'`);
    const existing = this.sessions.get(key);
    if (existing && !replace)
      throw new HttpError(409, `workflow '${key}' exists; pass "replace": true to replace it`);
    if (existing && (existing.queued > 0 || existing.inFlight > 0))
      throw new HttpError(409, `workflow '${key}' has queries in flight; replace it when idle`);
    const session = new WorkflowSession(key, compiled, {
      processor: this.processor,
      metrics: this.metrics,
      maxQueue: this.options.maxQueue,
      timeoutMs: this.options.timeoutMs,
      targetMs: this.options.batchTargetMs,
      maxBatch: this.options.maxBatch,
    });
    this.sessions.set(key, session);
    return session;
  }

  /**
   * Graceful stop: refuse new requests (503), let queued and running queries finish for up to
   * `deadlineMs`, fail what is left, then close connections.
   */
  async close(deadlineMs = 30_000): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    await Promise.all([...this.sessions.values()].map((s) => s.drain(deadlineMs)));
    if (this.completions) await (await this.completions.catch(() => undefined))?.close();
    // Streams already answered end themselves; anything still open is a keep-alive socket.
    setTimeout(() => this.http.closeAllConnections(), 1_000).unref();
    await closed;
    await this.closeDatabases();
  }

  private async closeDatabases(): Promise<void> {
    const all = [this.databases.duckdb, ...Object.values(this.databases.postgres)];
    await Promise.all(all.map((db) => db.close().catch(() => undefined)));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url = new URL("http://halo/");
    let route = "unknown";
    try {
      try {
        url = new URL(req.url ?? "/", "http://halo");
      } catch {
        throw new HttpError(400, `malformed request target ${JSON.stringify(req.url)}`);
      }
      route = this.routeName(req.method ?? "GET", url.pathname);
      if (this.draining && route !== "GET /healthz")
        throw new HttpError(503, "the server is shutting down", { Connection: "close" });
      this.authorize(req, SCOPES.get(route)!);
      await this.handle(route, req, res, url);
    } catch (err) {
      const error =
        err instanceof HttpError ? err : new HttpError(500, `internal error: ${String(err)}`);
      if (!(err instanceof HttpError))
        this.log(`${req.method} ${url.pathname} failed: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) sendError(res, error);
      else res.end();
    } finally {
      this.metrics.recordHttp(route, res.statusCode);
    }
  }

  /** The route template (for metrics and dispatch); throws 404/405. */
  private routeName(method: string, path: string): string {
    const routes: [RegExp, string[], string][] = [
      [/^\/healthz$/, ["GET"], "/healthz"],
      [/^\/metrics$/, ["GET"], "/metrics"],
      [/^\/v1\/workflows$/, ["GET", "POST"], "/v1/workflows"],
      [/^\/v1\/workflows\/[^/]+$/, ["DELETE"], "/v1/workflows/NAME"],
      [/^\/v1\/workflows\/[^/]+\/queries$/, ["POST"], "/v1/workflows/NAME/queries"],
      ...OPENAI_ROUTES,
    ];
    for (const [pattern, methods, name] of routes) {
      if (!pattern.test(path)) continue;
      if (!methods.includes(method))
        throw new HttpError(405, `${name} accepts ${methods.join(", ")}, not ${method}`, {
          Allow: methods.join(", "),
        });
      return `${method} ${name}`;
    }
    throw new HttpError(
      404,
      `no route ${method} ${path}; see GET /healthz, /metrics, /v1/workflows, /v1/models, POST /v1/chat/completions, /v1/completions`,
    );
  }

  /** Throws 401 (no or an unknown token) or 403 (a token without this route's scope). */
  private authorize(req: IncomingMessage, scope: Scope): void {
    if (scope === "open") return;
    const { token, adminToken } = this.options;
    const given = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ""))?.[1] ?? "";
    const isQuery = sameToken(given, token);
    const isAdmin = sameToken(given, adminToken);
    const unknown = () =>
      new HttpError(
        401,
        given
          ? "wrong bearer token"
          : `this route needs Authorization: Bearer <${scope === "admin" ? "admin " : ""}token>`,
        { "WWW-Authenticate": "Bearer" },
      );
    if (scope === "admin") {
      if (adminToken === undefined)
        throw new HttpError(
          403,
          "managing workflows over HTTP is off: start halo serve with --admin-token T (or HALO_ADMIN_TOKEN) to register, list and delete them; workflows given with --workflow FILE are served either way",
        );
      if (isAdmin) return;
      if (isQuery)
        throw new HttpError(
          403,
          "the query token cannot register, list or delete workflows; that needs the admin token",
        );
      throw unknown();
    }
    // Queries are open on loopback when no query token is set (listen() refuses it elsewhere).
    if (token === undefined || isQuery || (scope === "either" && isAdmin)) return;
    if (isAdmin)
      throw new HttpError(403, "the admin token does not run queries; send the query token");
    throw unknown();
  }

  private session(path: string): WorkflowSession {
    let name: string;
    try {
      name = decodeURIComponent(path.split("/")[3]!);
    } catch {
      throw new HttpError(400, `workflow name in ${path} is not valid %-encoding`);
    }
    const session = this.sessions.get(name);
    if (!session)
      throw new HttpError(
        404,
        `no workflow '${name}' is registered here (the operator registers workflows; check the name)`,
      );
    return session;
  }

  private async handle(
    route: string,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    const limit = this.options.maxBodyBytes ?? 2 ** 20;
    if (this.openai.owns(route)) return this.openai.handle(route, req, res, limit);
    switch (route) {
      case "GET /healthz": {
        let queued = 0;
        let running = 0;
        for (const s of this.sessions.values()) ((queued += s.queued), (running += s.inFlight));
        // Counts only: no token is needed here, and workflow names are the admin's to list.
        return sendJson(res, 200, {
          status: this.draining ? "draining" : "ok",
          workflows: this.sessions.size,
          queued,
          running,
        });
      }
      case "GET /metrics": {
        const queues = new Map(
          [...this.sessions].map(([name, s]) => [name, { queued: s.queued, running: s.inFlight }]),
        );
        return sendText(
          res,
          200,
          this.metrics.prometheus(queues),
          "text/plain; version=0.0.4; charset=utf-8",
        );
      }
      case "GET /v1/workflows":
        return sendJson(res, 200, {
          workflows: [...this.sessions.values()].map((s) => ({
            name: s.name,
            steps: s.workflow.steps,
            queued: s.queued,
            running: s.inFlight,
          })),
        });
      case "POST /v1/workflows": {
        const type = String(req.headers["content-type"] ?? "");
        let yaml: unknown;
        let name: unknown = url.searchParams.get("name") ?? undefined;
        let replace: unknown = url.searchParams.get("replace") === "true";
        if (/yaml/i.test(type)) yaml = await readBody(req, limit);
        else {
          const body = (await readJson(req, limit)) as Record<string, unknown>;
          if (!body || typeof body !== "object" || Array.isArray(body))
            throw new HttpError(400, 'expected {"yaml": "...", "name"?: "...", "replace"?: true}');
          ({ yaml, name = name, replace = replace } = body);
        }
        if (typeof yaml !== "string" || !yaml.includes("\n"))
          throw new HttpError(
            400,
            "send the workflow's YAML text in `yaml` (several lines; a file path is not read over HTTP)",
          );
        if (name !== undefined && typeof name !== "string")
          throw new HttpError(400, "`name` must be a string");
        const session = this.register(yaml, name, replace === true);
        this.log(`registered workflow '${session.name}' (${session.workflow.steps.join(" -> ")})`);
        return sendJson(res, 201, { name: session.name, steps: session.workflow.steps });
      }
      case "DELETE /v1/workflows/NAME": {
        const session = this.session(url.pathname);
        if (session.queued > 0 || session.inFlight > 0)
          throw new HttpError(409, `workflow '${session.name}' has queries in flight`);
        this.sessions.delete(session.name);
        return sendJson(res, 200, { deleted: session.name });
      }
      case "POST /v1/workflows/NAME/queries":
        return this.queries(this.session(url.pathname), req, res, url, limit);
    }
  }

  private async queries(
    session: WorkflowSession,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    limit: number,
  ): Promise<void> {
    const body = (await readJson(req, limit)) as Record<string, unknown>;
    let rows: unknown[];
    if (body && typeof body === "object" && Array.isArray(body.queries)) rows = body.queries;
    else if (body && typeof body === "object" && body.query !== undefined) rows = [body.query];
    else
      throw new HttpError(
        400,
        'expected {"queries": [{column: value, ...}, ...]} or {"query": {column: value, ...}}',
      );
    if (rows.length === 0) throw new HttpError(400, "`queries` is empty");
    const gone = new AbortController();
    // Each of the request's queries listens for its client leaving: not a leak past 10.
    setMaxListeners(rows.length + 1, gone.signal);
    // 'close' on the response also fires after a normal end; only an early one means gone.
    res.on("close", () => {
      if (!res.writableFinished) gone.abort(new Error("client went away"));
    });
    const answers = session.submit(rows, gone.signal);
    if (!wantsStream(req, url)) {
      const results = await Promise.all(answers);
      const text = `{"results":[${results.map(answerJson).join(",")}]}`;
      return sendText(res, 200, text, "application/json; charset=utf-8");
    }
    res.writeHead(200, { "Content-Type": "application/x-ndjson; charset=utf-8" });
    await Promise.all(
      answers.map((p, index) => p.then((a) => res.write(answerJson(a, index) + "\n"))),
    );
    res.end();
  }
}

/**
 * One query's answer as JSON text. Each is written on its own: an answer whose row JSON cannot
 * write (a value nested deeper than JSON.stringify can follow) fails that query alone, saying
 * so, instead of the whole response.
 */
function answerJson(a: QueryAnswer, index: number): string {
  const latencyMs = Math.round(a.latencyMs * 10) / 10;
  try {
    return toJson({
      index,
      outcome: a.outcome,
      ...(a.row !== undefined && { row: a.row }),
      ...(a.error !== undefined && { error: a.error }),
      latencyMs,
    });
  } catch (err) {
    const why = `its answer cannot be written as JSON (${(err as Error).message}): send plain values nested less deeply`;
    const error = a.error === undefined ? why : `${a.error}; ${why}`;
    return toJson({ index, outcome: "failed", error, latencyMs });
  }
}

/** Constant time: a wrong token must not leak how much of it was right. */
function sameToken(given: string, token: string | undefined): boolean {
  if (token === undefined || given === "") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startServer(options: ServeOptions = {}): Promise<HaloServer> {
  const server = new HaloServer(options);
  try {
    await server.listen();
  } catch (err) {
    await server.close(0);
    throw err;
  }
  return server;
}
