// The OpenAI API on `halo serve`, so any OpenAI client (the official `openai` package, the AI
// SDK's `@ai-sdk/openai-compatible`, LangChain) can use Halo's continuous batching and prefix
// cache. Routes, all under the query token's scope:
//   GET  /v1/models             the served model and every workflow as `workflow/NAME`
//   POST /v1/chat/completions   messages -> answer (stream: true for server-sent events)
//   POST /v1/completions        text or token-id prompts -> answer (stream as well)
// server.ts hands these routes here; errors are HttpErrors, in OpenAI's error shape.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CompletionsService } from "../completions.ts";
import { HttpError } from "../http-error.ts";
import { readJson, sendJson } from "../http-io.ts";
import type { ServerMetrics } from "../metrics.ts";
import type { WorkflowSession } from "../workflow-session.ts";
import { chatAnswer } from "./chat-endpoint.ts";
import { parseChatRequest } from "./chat-request.ts";
import { parseCompletionRequest } from "./completion-request.ts";
import { completionsAnswer } from "./completions-endpoint.ts";
import { SseStream } from "./sse.ts";
import { WORKFLOW_PREFIX, workflowAnswer } from "./workflow-model.ts";

/** Path pattern, methods, route name (as metrics label it): all need the query token. */
export const OPENAI_ROUTES: [RegExp, string[], string][] = [
  [/^\/v1\/models$/, ["GET"], "/v1/models"],
  [/^\/v1\/chat\/completions$/, ["POST"], "/v1/chat/completions"],
  [/^\/v1\/completions$/, ["POST"], "/v1/completions"],
];

/** What the routes need of the server. */
export interface OpenAiHost {
  /** The served model, or undefined when the server has none (then only workflows answer). */
  completions(): Promise<CompletionsService> | undefined;
  workflow(name: string): WorkflowSession | undefined;
  workflowNames(): string[];
  metrics: ServerMetrics;
  log(line: string): void;
}

export class OpenAiRoutes {
  private readonly started = Math.floor(Date.now() / 1000);

  constructor(private readonly host: OpenAiHost) {}

  owns(route: string): boolean {
    return OPENAI_ROUTES.some(([, methods, name]) => methods.some((m) => route === `${m} ${name}`));
  }

  async handle(
    route: string,
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
  ): Promise<void> {
    if (route === "GET /v1/models") return sendJson(res, 200, await this.models());
    const body = await readJson(req, limit);
    const gone = new AbortController();
    // 'close' also fires after a normal end; only an early one means the client left.
    res.on("close", () => {
      if (!res.writableFinished) gone.abort(new Error("client went away"));
    });
    let stream: SseStream | undefined;
    const openStream = () => (stream = new SseStream(res));
    try {
      const answer =
        route === "POST /v1/chat/completions"
          ? await this.chat(body, gone.signal, openStream)
          : await completionsAnswer(
              await this.service(),
              parseCompletionRequest(body),
              gone.signal,
              openStream,
            );
      this.host.metrics.recordCompletion();
      if (answer !== undefined) sendJson(res, 200, answer);
    } catch (error) {
      // The client left: its answers were cancelled, and there is no one to tell.
      if (gone.signal.aborted) return void res.destroy();
      if (!stream) throw error;
      // The stream is open: the error goes in it, as OpenAI's servers send one.
      const e =
        error instanceof HttpError ? error : new HttpError(500, `internal error: ${String(error)}`);
      if (!(error instanceof HttpError))
        this.host.log(`${route} failed: ${(error as Error)?.stack ?? error}`);
      stream.fail(e);
    }
  }

  private chat(body: unknown, signal: AbortSignal, openStream: () => SseStream): Promise<unknown> {
    const request = parseChatRequest(body);
    if (request.model?.startsWith(WORKFLOW_PREFIX)) {
      const name = request.model.slice(WORKFLOW_PREFIX.length);
      const session = this.host.workflow(name);
      if (!session)
        throw new HttpError(
          404,
          `the model '${request.model}' does not exist: no workflow '${name}' is registered (GET /v1/models lists them)`,
          {},
          { param: "model", code: "model_not_found" },
        );
      return workflowAnswer(session, request, signal, openStream);
    }
    return this.service().then((service) => chatAnswer(service, request, signal, openStream));
  }

  private service(): Promise<CompletionsService> {
    const service = this.host.completions();
    if (!service)
      throw new HttpError(
        404,
        "this server was started without a model for completions; its workflows answer as models 'workflow/NAME' on /v1/chat/completions",
        {},
        { param: "model", code: "model_not_found" },
      );
    return service;
  }

  private async models() {
    const model = (id: string) => ({
      id,
      object: "model",
      created: this.started,
      owned_by: "halo",
    });
    const service = await this.host.completions();
    return {
      object: "list",
      data: [
        ...(service ? [model(service.modelName)] : []),
        ...this.host.workflowNames().map((name) => model(`${WORKFLOW_PREFIX}${name}`)),
      ],
    };
  }
}
