// Server-sent events as OpenAI streams them: `data: {json}\n\n` per chunk, `data: [DONE]\n\n` at
// the end; an error after the stream started is one `data: {"error": {...}}` event, then the end.
import type { ServerResponse } from "node:http";
import type { HttpError } from "../http-error.ts";
import { errorBody, toJson } from "../http-io.ts";

export class SseStream {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
      // proxies (nginx) must pass each chunk on at once
      "X-Accel-Buffering": "no",
    });
  }

  get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  send(chunk: unknown): void {
    if (!this.closed) this.res.write(`data: ${toJson(chunk)}\n\n`);
  }

  done(): void {
    if (this.closed) return;
    this.res.write("data: [DONE]\n\n");
    this.res.end();
  }

  fail(error: HttpError): void {
    this.send({ error: errorBody(error) });
    if (!this.closed) this.res.end();
  }
}
