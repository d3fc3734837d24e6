// Parsing an OpenAI `/v1/chat/completions` body: the messages (roles system, developer, user and
// assistant; content as text or text parts) here, the fields it shares with completions in
// request-fields.ts. A 400 names the field and what to send.
import type { ChatMessage } from "../../runtime/types.ts";
import { bad, parseCommonFields, type CommonFields } from "./request-fields.ts";

export interface ChatRequest extends CommonFields {
  messages: ChatMessage[];
}

const ROLES: Record<string, ChatMessage["role"]> = {
  system: "system",
  // OpenAI's newer name for the system role.
  developer: "system",
  user: "user",
  assistant: "assistant",
};

export function parseChatRequest(body: unknown): ChatRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw bad(
      undefined,
      'the body must be a JSON object such as {"model": "...", "messages": [{"role": "user", "content": "Hello"}]}',
    );
  const b = body as Record<string, unknown>;
  const messages = parseMessages(b.messages);
  return { ...parseCommonFields(b, ["messages"]), messages };
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0)
    throw bad(
      "messages",
      `"messages" must be a non-empty array like [{"role": "user", "content": "Hello"}]`,
    );
  return value.map((m: unknown, i) => {
    const where = `messages[${i}]`;
    if (!m || typeof m !== "object" || Array.isArray(m))
      throw bad("messages", `"${where}" must be an object with "role" and "content"`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    const mapped = typeof role === "string" ? ROLES[role] : undefined;
    if (!mapped)
      throw bad(
        "messages",
        `"${where}.role" is ${JSON.stringify(role)}: use "system", "developer", "user" or "assistant" (tools are not supported)`,
      );
    return { role: mapped, content: messageText(content, where) };
  });
}

/** A message's text: a string, or the text parts of a content array joined by newlines. */
function messageText(content: unknown, where: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown, j) => {
        const p = part as { type?: unknown; text?: unknown } | null;
        if (p?.type !== "text" || typeof p.text !== "string")
          throw bad(
            "messages",
            `"${where}.content[${j}]" is not a text part ({"type": "text", "text": "..."}): this model reads text only`,
          );
        return p.text;
      })
      .join("\n");
  }
  throw bad(
    "messages",
    `"${where}.content" must be a string or an array of text parts (got ${JSON.stringify(content)?.slice(0, 40)})`,
  );
}
