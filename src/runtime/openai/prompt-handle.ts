// Prompt handles: what `encodeChat` returns for a model that has no token ids to give ("chat" and
// "completions" modes of halo.openai, where the server tokenizes). The executors, the optimizer and
// the replica router all speak token ids (`LlmModel.encodeChat(messages): number[]`); a handle is a
// number array they can use unchanged that `generate` turns back into the exact messages:
//
// - reversible: the UTF-8 bytes of the messages' canonical JSON, 4 bytes per number;
// - prefix-preserving: messages sharing a leading part (a system prompt, a document, the start of
//   the user's text) share leading numbers, so group-shared-prefixes orders them side by side and
//   the router's affinity hash over the first K numbers is a hash of the first 4K bytes of text;
// - about token-sized: BPE vocabularies average about 4 bytes of English per token, so the
//   prompt lengths the planner reads stay near what the server will count.
//
// Full 4-byte groups are 2^32 + the bytes read big-endian; a last group of k < 4 bytes is
// 2^(8k) + its bytes. The marker bit says how many bytes a number holds, and full groups compare
// in byte order (so sorting handles sorts the JSON text).
import type { ChatMessage } from "../types.ts";

const FULL = 2 ** 32;

export function encodeHandle(messages: readonly ChatMessage[]): number[] {
  const bytes = Buffer.from(JSON.stringify(messages.map((m) => [m.role, m.content])), "utf8");
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    const k = Math.min(4, bytes.length - i);
    let v = 0;
    for (let j = 0; j < k; j++) v = v * 256 + bytes[i + j]!;
    out.push(2 ** (8 * k) + v);
  }
  return out;
}

/** The messages a handle was made from; throws on numbers no handle holds. */
export function decodeHandle(handle: readonly number[]): ChatMessage[] {
  const bytes: number[] = [];
  for (const [i, n] of handle.entries()) {
    const k = n >= FULL ? 4 : n >= 2 ** 24 ? 3 : n >= 2 ** 16 ? 2 : n >= 2 ** 8 ? 1 : 0;
    if (!Number.isInteger(n) || k === 0 || n >= 2 * FULL || (k < 4 && i !== handle.length - 1))
      throw new Error(notHandle);
    let v = n - 2 ** (8 * k);
    const group: number[] = [];
    for (let j = 0; j < k; j++) {
      group.unshift(v % 256);
      v = Math.floor(v / 256);
    }
    bytes.push(...group);
  }
  let pairs: unknown;
  try {
    pairs = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new Error(notHandle);
  }
  if (!Array.isArray(pairs)) throw new Error(notHandle);
  return pairs.map((p: unknown) => {
    if (!Array.isArray(p) || typeof p[0] !== "string" || typeof p[1] !== "string")
      throw new Error(notHandle);
    return { role: p[0] as ChatMessage["role"], content: p[1] };
  });
}

const notHandle =
  "halo.openai: this prompt is not one this model's encodeChat made (in mode chat or completions, prompts are messages: pass model.encodeChat(messages))";
