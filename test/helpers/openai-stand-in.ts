// A small OpenAI-compatible server for tests, on 127.0.0.1, behaving like the text-only servers
// halo.openai meets (Ollama, llama.cpp's server, LM Studio, TGI, hosted APIs): it takes messages
// on /v1/chat/completions and text on /v1/completions, returns no token ids, reports `usage`
// (a token is a word here), optionally honours `response_format` / llama.cpp's `grammar`, and
// optionally enforces a rate limit per fixed window, refusing beyond it with 429, Retry-After and
// `x-ratelimit-*` headers as OpenAI does. It records every request it receives, so tests count
// requests per window, attempts per prompt and the order prompts arrived in.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInMessage {
  role: string;
  content: string;
}

export interface Received {
  /** performance.now() when it arrived. */
  at: number;
  path: string;
  body: Record<string, any>;
  /** The last user message, or the text prompt. */
  prompt: string;
  status: number;
}

export interface StandInOptions {
  /** The "model": what it answers to a prompt (default: "ok"). */
  answer?: (prompt: string, body: Record<string, any>) => string;
  /** Structured output it honours: OpenAI's response_format, llama.cpp's grammar, or none. */
  honours?: "response_format" | "grammar" | "none";
  /**
   * A limit per fixed window (the first starts with the first request): beyond `requests` (or
   * `tokens`, prompt words plus max_tokens) in a window, 429 with Retry-After in whole seconds.
   */
  limit?: { requests?: number; tokens?: number; windowMs: number };
  /** State the window in x-ratelimit-* headers on every answer (default true with a limit). */
  statesLimits?: boolean;
  /** Prompts answered 500 every time. */
  failing?: (prompt: string) => boolean;
  /** Leave `usage` out (default: included). */
  noUsage?: boolean;
}

export interface StandIn {
  url: string;
  received: Received[];
  /** Requests answered 429 because of the limit. */
  refused(): number;
  close(): Promise<void>;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const received: Received[] = [];
  let windowStart = -Infinity;
  let requestsInWindow = 0;
  let tokensInWindow = 0;
  const server = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(json));
    };
    const path = req.url ?? "";
    const chat = path === "/v1/chat/completions";
    if (req.method !== "POST" || (!chat && path !== "/v1/completions"))
      return send(404, { error: { message: `no route ${path}`, type: "invalid_request_error" } });
    let body: Record<string, any>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, any>;
    } catch {
      return send(400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
    }
    const messages = (body.messages ?? []) as StandInMessage[];
    const prompt = chat
      ? (messages.findLast((m) => m.role === "user")?.content ?? "")
      : String(body.prompt);
    const record: Received = { at: performance.now(), path, body, prompt, status: 200 };
    received.push(record);
    const promptTokens = chat ? messages.reduce((n, m) => n + words(m.content), 0) : words(prompt);

    const headers: Record<string, string> = {};
    const limit = options.limit;
    if (limit) {
      const now = performance.now();
      if (now - windowStart >= limit.windowMs) {
        windowStart = now;
        requestsInWindow = 0;
        tokensInWindow = 0;
      }
      const resetMs = Math.max(1, Math.ceil(windowStart + limit.windowMs - now));
      const want = promptTokens + Number(body.max_tokens ?? 0);
      const over =
        (limit.requests !== undefined && requestsInWindow + 1 > limit.requests) ||
        (limit.tokens !== undefined && tokensInWindow + want > limit.tokens);
      if (!over) {
        requestsInWindow++;
        tokensInWindow += want;
      }
      if (options.statesLimits !== false) {
        if (limit.requests !== undefined) {
          headers["x-ratelimit-limit-requests"] = String(limit.requests);
          headers["x-ratelimit-remaining-requests"] = String(limit.requests - requestsInWindow);
          headers["x-ratelimit-reset-requests"] = `${resetMs}ms`;
        }
        if (limit.tokens !== undefined) {
          headers["x-ratelimit-limit-tokens"] = String(limit.tokens);
          headers["x-ratelimit-remaining-tokens"] = String(limit.tokens - tokensInWindow);
          headers["x-ratelimit-reset-tokens"] = `${resetMs}ms`;
        }
      }
      if (over) {
        record.status = 429;
        return send(
          429,
          {
            error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" },
          },
          { ...headers, "retry-after": String(Math.ceil(resetMs / 1000)) },
        );
      }
    }
    if (options.failing?.(prompt)) {
      record.status = 500;
      return send(500, { error: { message: "the model crashed", type: "server_error" } }, headers);
    }

    let text = options.answer?.(prompt, body) ?? "ok";
    const honours = options.honours ?? "none";
    if (honours === "response_format" && body.response_format?.type === "json_schema") {
      const schema = body.response_format.json_schema.schema;
      // A choice object: answer the enum member the model "said", wrapped as the schema asks.
      const options_ = schema?.properties?.answer?.enum as string[] | undefined;
      if (options_)
        text = JSON.stringify({ answer: options_.find((o) => text.includes(o)) ?? options_[0] });
    }
    if (honours === "grammar" && typeof body.grammar === "string") {
      const literals = [...(body.grammar as string).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(
        (m) => m[1]!,
      );
      text = literals.find((l) => text.toLowerCase().includes(l.toLowerCase())) ?? literals[0]!;
    }
    const completionTokens = words(text);
    send(
      200,
      {
        id: "stand-in",
        object: chat ? "chat.completion" : "text_completion",
        created: 0,
        model: body.model,
        choices: [
          chat
            ? { index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }
            : { index: 0, text, finish_reason: "stop" },
        ],
        ...(options.noUsage
          ? {}
          : {
              usage: {
                prompt_tokens: promptTokens,
                completion_tokens: completionTokens,
                total_tokens: promptTokens + completionTokens,
              },
            }),
      },
      headers,
    );
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    refused: () => received.filter((r) => r.status === 429).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The most requests received in any window of `spanMs` (by arrival time). */
export function mostInWindow(received: readonly Received[], spanMs: number): number {
  const times = received.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= spanMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
