// The reference generation loop: batched prefill of every prompt, then one batched decode step at
// a time until each request ends. No cross-request cache; greedy results equal running each
// request alone (up to ~1e-6 logit noise from GEMM blocking, notes pitfall 8). The Processor's
// scheduler is the fast path; this is the simple, correct baseline it is tested against.
import type { DecoderSession, PaddedKv } from "./decoder-session.ts";
import { concatPadded, selectRows } from "./kv-batch.ts";
import { RequestState, validateRequest, type TokenText } from "./request-state.ts";
import type { GenerateRequest, GenerateResult } from "./types.ts";

/** Logits of one prefill call stay under this many floats (notes pitfall 4: 622 MB at 150k vocab). */
export const MAX_PREFILL_LOGITS = 32 * 1024 * 1024;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("generation aborted", "AbortError");
}

/**
 * Groups of request indices whose padded prefill logits fit MAX_PREFILL_LOGITS. `lastOnly`: the
 * graph returns one position's logits per row (num_logits_to_keep, last-token graphs).
 */
export function planPrefillChunks(
  lengths: readonly number[],
  vocabSize: number,
  lastOnly = false,
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let widest = 0;
  lengths.forEach((len, i) => {
    const w = lastOnly ? 1 : Math.max(widest, len);
    if (current.length > 0 && (current.length + 1) * w * vocabSize > MAX_PREFILL_LOGITS) {
      chunks.push(current);
      current = [];
      widest = 0;
    }
    current.push(i);
    widest = Math.max(widest, len);
  });
  if (current.length) chunks.push(current);
  return chunks;
}

export async function generate(
  session: DecoderSession,
  codec: TokenText,
  eosTokenIds: readonly number[],
  requests: readonly GenerateRequest[],
  signal?: AbortSignal,
): Promise<GenerateResult[]> {
  requests.forEach((r, i) => validateRequest(r, i, session.vocabSize));
  if (requests.length === 0) return [];
  const eos = new Set(eosTokenIds);
  const states = requests.map((r) => new RequestState(r, codec, eos));
  const v = session.vocabSize;

  // prefill: logits come right-aligned (each row's last token at the last column)
  const parts: PaddedKv[] = [];
  const order: number[] = [];
  const sig = session.signature;
  for (const chunk of planPrefillChunks(
    requests.map((r) => r.promptTokens.length),
    v,
    sig.lastLogitsOnly || sig.logitsToKeep !== undefined,
  )) {
    throwIfAborted(signal);
    const tokens = chunk.map((i) => requests[i]!.promptTokens);
    const {
      logits,
      logitsWidth: w,
      present,
    } = await session.run(tokens, session.emptyPast(chunk.length));
    chunk.forEach((i, row) => {
      const at = (row * w + w - 1) * v;
      const st = states[i]!;
      st.accept(st.pick(logits.subarray(at, at + v)));
    });
    parts.push(present);
    order.push(...chunk);
  }
  let state = concatPadded(parts, session.shape, session.padding);
  let rows = order; // request index of each batch row

  for (;;) {
    const live = rows.map((_, r) => r).filter((r) => !states[rows[r]!]!.done);
    if (live.length === 0) break;
    if (live.length < rows.length) {
      // finished rows leave the batch: later steps cost only what is still running
      state = selectRows(state, live, session.shape);
      rows = live.map((r) => rows[r]!);
    }
    throwIfAborted(signal);
    const next = rows.map((i) => [states[i]!.tokens.at(-1)!]);
    const { logits, logitsWidth: w, present } = await session.run(next, state);
    state = present;
    rows.forEach((i, row) => {
      const st = states[i]!;
      const at = (row * w + w - 1) * v;
      st.accept(st.pick(logits.subarray(at, at + v)));
    });
  }
  return states.map((s) => s.result());
}
