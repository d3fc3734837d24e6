// A registered workflow as a chat model, `workflow/NAME`: the last user message's content is the
// query row as JSON (`{"review": "..."}`), and the answer's content is the workflow's output row
// as JSON, the row `POST /v1/workflows/NAME/queries` would answer. The query joins the workflow's
// mini-batches like any other. Sampling fields do not apply (the workflow's YAML sets each
// step's) and are refused, naming the field; `usage` is left out, since one query may make many
// LLM calls or none.
import type { ChatMessage } from "../../runtime/types.ts";
import { HttpError } from "../http-error.ts";
import { toJson } from "../http-io.ts";
import type { WorkflowSession } from "../workflow-session.ts";
import { answerMeta, chatChunk } from "./answer-shape.ts";
import type { ChatRequest } from "./chat-request.ts";
import { bad } from "./request-fields.ts";
import type { SseStream } from "./sse.ts";

export const WORKFLOW_PREFIX = "workflow/";

export async function workflowAnswer(
  session: WorkflowSession,
  request: ChatRequest,
  signal: AbortSignal,
  openStream: () => SseStream,
): Promise<unknown> {
  refuseSampling(request);
  const row = queryRow(request.messages);
  const [pending] = session.submit([row], signal);
  const meta = answerMeta("chat", request.model!, false);
  const sse = request.stream ? openStream() : undefined;
  const answer = await pending!;
  if (answer.outcome !== "ok") {
    const error = new HttpError(
      answer.outcome === "timeout" ? 504 : 500,
      `workflow '${session.name}': ${answer.error ?? answer.outcome}`,
    );
    if (!sse) throw error;
    sse.fail(error);
    return undefined;
  }
  const content = toJson(answer.row);
  if (!sse)
    return {
      id: meta.id,
      object: "chat.completion",
      created: meta.created,
      model: meta.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content, refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
    };
  sse.send(chatChunk(meta, 0, { role: "assistant", content: "" }, null));
  sse.send(chatChunk(meta, 0, { content }, null));
  sse.send(chatChunk(meta, 0, {}, "stop"));
  sse.done();
  return undefined;
}

function refuseSampling(request: ChatRequest): void {
  const given: [boolean, string][] = [
    [request.maxTokens !== undefined, "max_tokens"],
    [request.n !== 1, "n"],
    [request.sampling.temperature !== undefined, "temperature"],
    [request.sampling.topP !== undefined, "top_p"],
    [request.sampling.seed !== undefined, "seed"],
    [request.sampling.stop !== undefined, "stop"],
    [
      request.sampling.choices !== undefined || request.sampling.schema !== undefined,
      "response_format",
    ],
    [request.includeUsage, "stream_options"],
  ];
  const field = given.find(([set]) => set)?.[1];
  if (field)
    throw bad(
      field,
      `"${field}" does not apply to ${request.model}: the workflow's YAML sets each step's sampling; leave it out`,
    );
}

function queryRow(messages: ChatMessage[]): Record<string, unknown> {
  const last = messages.findLast((m) => m.role === "user");
  const example = 'e.g. {"role": "user", "content": "{\\"review\\": \\"...\\"}"}';
  if (!last) throw bad("messages", `send the query row as JSON in a user message, ${example}`);
  let row: unknown;
  try {
    row = JSON.parse(last.content);
  } catch {
    throw bad(
      "messages",
      `the last user message must be the query row as a JSON object of column values, ${example}`,
    );
  }
  if (!row || typeof row !== "object" || Array.isArray(row))
    throw bad("messages", `the query row must be a JSON object of column values, ${example}`);
  return row as Record<string, unknown>;
}
