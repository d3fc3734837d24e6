// One request on the wire, per mode: which endpoint, the JSON body, and what comes back. The
// sampling fields are OpenAI's (`max_tokens`, `temperature`, `top_p`, `seed`, `stop`), which every
// OpenAI-compatible server reads; choices and schemas are added by structured-output.ts.
import type { TextTokenizer } from "../tokenizer.ts";
import type { ChatMessage, GenerateRequest } from "../types.ts";
import type { OpenAiMode, StructuredOutputFlavour } from "./options.ts";
import { decodeHandle } from "./prompt-handle.ts";
import { promptInstruction, structuredFields } from "./structured-output.ts";

export interface WireRequest {
  /** Below the base URL's /v1: "completions" or "chat/completions". */
  path: string;
  body: Record<string, unknown>;
  /** The messages sent ("chat" and "completions" modes), for counting without a server's usage. */
  messages?: ChatMessage[];
}

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

export interface WireAnswer {
  text: string;
  /** vLLM's `return_token_ids` (and `halo serve`'s). */
  tokenIds?: number[];
  finishReason?: string;
  /** vLLM's stop_reason: null at end-of-sequence, the matched stop string otherwise. */
  stopReason?: unknown;
  usage?: Usage;
}

export function wireRequest(
  request: GenerateRequest,
  mode: OpenAiMode,
  flavour: StructuredOutputFlavour,
  model: string,
  tokenizer: TextTokenizer | undefined,
): WireRequest {
  const s = request.sampling;
  const body: Record<string, unknown> = {
    model,
    max_tokens: s.maxTokens,
    // OpenAI's default temperature is 1; the runtime's is greedy.
    temperature: s.temperature ?? 0,
  };
  if (s.topP !== undefined) body.top_p = s.topP;
  if (s.seed !== undefined) body.seed = s.seed;
  if (s.stop?.length) body.stop = s.stop;
  Object.assign(body, structuredFields(flavour, s));
  if (mode === "tokens") {
    body.prompt = request.promptTokens;
    body.return_token_ids = true;
    return { path: "completions", body };
  }
  const messages = withInstruction(
    decodeHandle(request.promptTokens),
    promptInstruction(flavour, s),
  );
  if (mode === "chat") {
    body.messages = messages;
    return { path: "chat/completions", body, messages };
  }
  body.prompt = tokenizer?.hasChatTemplate
    ? tokenizer.renderChat(messages)
    : messages.map((m) => m.content).join("\n\n");
  return { path: "completions", body, messages };
}

/** The instruction for a server that cannot constrain, at the end of the last user message. */
function withInstruction(messages: ChatMessage[], instruction: string | undefined): ChatMessage[] {
  if (!instruction) return messages;
  const out = messages.map((m) => ({ ...m }));
  const last = out.findLastIndex((m) => m.role === "user");
  if (last < 0) out.push({ role: "user", content: instruction });
  else out[last]!.content = `${out[last]!.content}\n\n${instruction}`;
  return out;
}

/** The answer in a 200 body, or an Error saying what is missing. */
export function readAnswer(mode: OpenAiMode, json: unknown): WireAnswer {
  const body = json as {
    choices?: {
      text?: unknown;
      message?: { content?: unknown; refusal?: unknown };
      token_ids?: unknown;
      finish_reason?: string;
      stop_reason?: unknown;
    }[];
    usage?: Usage;
  } | null;
  const choice = body?.choices?.[0];
  const text = mode === "chat" ? choice?.message?.content : choice?.text;
  if (typeof text !== "string") {
    const refusal = choice?.message?.refusal;
    throw new Error(
      typeof refusal === "string"
        ? `the model refused: ${refusal}`
        : mode === "chat"
          ? "answered without choices[0].message.content: is it an OpenAI-compatible /v1/chat/completions?"
          : "answered without choices[0].text: is it an OpenAI-compatible /v1/completions?",
    );
  }
  const out: WireAnswer = { text };
  if (Array.isArray(choice!.token_ids)) out.tokenIds = choice!.token_ids as number[];
  if (choice!.finish_reason !== undefined) out.finishReason = choice!.finish_reason;
  out.stopReason = choice!.stop_reason;
  if (body!.usage && typeof body!.usage === "object") out.usage = body!.usage;
  return out;
}
