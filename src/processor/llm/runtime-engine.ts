// The LlmEngine over the runtime's Model: its padded batched forward (DecoderSession.run, where
// each row continues its own past), its per-sequence KV (`SequenceKv`) wrapped as a cache payload,
// and its own request state for choosing tokens, so greedy answers equal `Model.generate`.
//
// Why not call `Model.prefill` per step: it packs every sequence's KV into a padded batch and
// splits the result back, two full copies of the batch's KV per decode step. Measured on the
// shipped model, 64 rows x 16 tokens: 410 ms through `generate`, 930 ms through per-step repacking
// (ORT itself about 350-570 ms of both). So a forward's outputs stay *views* into the padded
// present they came from, and the next step reuses that present as its past when the batch is the
// same rows, in any order (the steady state of decoding), selects rows when some left, and stacks
// batches when new ones join; per-sequence KV is only materialized when the prefix cache needs it
// (once per prefill and once per finished sequence). With graphs that output new KV only
// (new-kv-outputs.ts) the present *is* the past's buffer, one column longer: a decode step writes
// into it in place, and a batch rebuilt for a join or leave is built with room for that.
import type { Model, PaddedKv } from "../../runtime/index.ts";
import {
  KV_ROOM,
  SequenceKv,
  concatPadded,
  concatSequences,
  kvBytesPerToken,
  maskSpans,
  packSequences,
  selectRows,
  unpackKv,
  type KvShape,
} from "../../runtime/index.ts";
import type { GenerateRequest } from "../../runtime/types.ts";
import { checkSliceBounds, type KvPayload } from "../kv/kv-payload.ts";
import type { ForwardInput, ForwardOutput, LlmEngine, SequenceDecoder } from "./llm-engine.ts";

/** Row `row` of a padded batch state (the present of one forward call). */
interface BatchView {
  padded: PaddedKv;
  row: number;
}

/**
 * A sequence's KV as a prefix-cache payload: materialized buffers per layer
 * [kvHeads, length, headDim] in the graph's own element type (float16 stays 2 bytes a value), or
 * a view of one row of a padded batch, materialized on demand.
 */
export class RuntimeKv implements KvPayload<RuntimeKv> {
  readonly numTokens: number;
  private materialized: SequenceKv | undefined;

  constructor(
    source: SequenceKv | { view: BatchView; numTokens: number },
    private readonly shape: KvShape = (source as SequenceKv).shape,
  ) {
    if (source instanceof SequenceKv) {
      this.materialized = source;
      this.numTokens = source.length;
    } else {
      this.view = source.view;
      this.numTokens = source.numTokens;
    }
  }

  /** Set while the KV is a row of a padded batch (kept after materializing, for batch reuse). */
  readonly view: BatchView | undefined;

  get kv(): SequenceKv {
    this.materialized ??= unpackRow(this.view!, this.shape, this.numTokens);
    return this.materialized;
  }

  get bytes(): number {
    // K and V, every layer, at the KV element size: SequenceKv.byteSize without materializing.
    return kvBytesPerToken(this.shape) * this.numTokens;
  }

  slice(start: number, end: number): RuntimeKv {
    checkSliceBounds(this.numTokens, start, end);
    // Still a batch row: copy just the span out of the batch (the cache takes a prompt's new
    // suffix, or an answer, without materializing the whole sequence first).
    if (!this.materialized) {
      return new RuntimeKv(unpackRow(this.view!, this.shape, this.numTokens, start, end));
    }
    return new RuntimeKv(this.kv.span(start, end));
  }

  concat(rest: readonly RuntimeKv[]): RuntimeKv {
    if (rest.length === 0) return this;
    const parts = [this.kv, ...rest.map((r) => r.kv)];
    return new RuntimeKv(concatSequences(parts, this.shape));
  }
}

/**
 * Positions [from, to) of one row of a padded batch as compact KV, counting only real positions
 * (mask 1): padding and holes are dropped.
 */
function unpackRow(
  { padded, row }: BatchView,
  shape: KvShape,
  numTokens: number,
  from = 0,
  to = numTokens,
): SequenceKv {
  const [spans] = maskSpans(padded, [row]);
  const real = spans!.reduce((n, [a, b]) => n + b - a, 0);
  if (real !== numTokens) {
    throw new Error(`batch row ${row} holds ${real} positions, expected ${numTokens}`);
  }
  // Keep only the real positions from..to-1, as width-axis spans.
  const wanted: [number, number][] = [];
  let seen = 0;
  for (const [a, b] of spans!) {
    const lo = Math.max(a, a + from - seen);
    const hi = Math.min(b, a + to - seen);
    if (hi > lo) wanted.push([lo, hi]);
    seen += b - a;
  }
  return unpackKv(padded.keys, padded.values, shape, padded.width, [wanted], [row])[0]!;
}

export class RuntimeEngine implements LlmEngine<RuntimeKv> {
  readonly modelId: string;
  readonly kvBytesPerToken: number;
  readonly maxPositions: number;

  constructor(readonly model: Model) {
    const c = model.config;
    this.modelId = model.id;
    // K and V, every layer, at the graph's KV element size (2 bytes for float16 KV)
    this.kvBytesPerToken = kvBytesPerToken(model.session.shape);
    this.maxPositions = c.maxPositions;
  }

  async forward(inputs: readonly ForwardInput<RuntimeKv>[]): Promise<ForwardOutput<RuntimeKv>[]> {
    const { session } = this.model;
    const shape = session.shape;
    // Group inputs by the batch their past lives in; pasts from the cache (or none) form one
    // more group, packed afresh.
    const groups = new Map<PaddedKv, { rows: number[]; inputs: number[] }>();
    const fresh: number[] = [];
    inputs.forEach((input, i) => {
      const view = input.past?.view;
      if (!view) return fresh.push(i);
      const g = groups.get(view.padded) ?? { rows: [], inputs: [] };
      g.rows.push(view.row);
      g.inputs.push(i);
      groups.set(view.padded, g);
    });
    const parts: PaddedKv[] = [];
    // A batch these rows are copied into gets room for the decode steps that follow, which then
    // write into it in place (graphs that output new KV only, new-kv-outputs.ts): one copy a join
    // or leave, not a second one to add room.
    const room = session.newKvOnly ? KV_ROOM : 0;
    const order: number[] = []; // input index of each row of the combined batch
    for (const [padded, g] of groups) {
      // A batch that lives on (rows leave, new ones join) only ever widens: every row pays
      // attention over the widest past plus the holes of old prefills. Once more than a third of
      // the width is waste, its rows are repacked compactly (one copy, like a row selection).
      // Without this a 400-request run decoded at 11.9 ms a step against 2 ms.
      // (Room a buffer keeps for the next decode steps, past `used`, is not waste.)
      const longest = Math.max(...g.inputs.map((i) => inputs[i]!.past!.numTokens));
      if ((padded.used ?? padded.width) - longest > Math.max(32, longest / 2)) {
        fresh.push(...g.inputs);
        continue;
      }
      // Every row of the batch, in whatever order the caller lists them: the batch as it is,
      // its rows taken in batch order (the caller's order does not matter: `order` maps each
      // row back to its input). Requiring the caller's order too copied the whole batch on the
      // step after every join, whose rows come back grouped by the batch they came from (a
      // 140 MB copy, 150-180 ms, at 6 rows x 509 tokens of SmolLM2-135M's shape).
      if (g.rows.length === padded.batch && new Set(g.rows).size === padded.batch) {
        const byRow = g.rows.map((row, k) => [row, g.inputs[k]!] as const);
        byRow.sort((a, b) => a[0] - b[0]);
        parts.push(padded);
        order.push(...byRow.map(([, input]) => input));
        continue;
      }
      parts.push(selectRows(padded, g.rows, shape, room));
      order.push(...g.inputs);
    }
    if (fresh.length > 0) {
      parts.push(
        packSequences(
          fresh.map((i) => inputs[i]!.past?.kv ?? SequenceKv.empty(shape)),
          shape,
          session.padding,
        ),
      );
      order.push(...fresh);
    }
    const past = parts.length === 1 ? parts[0]! : concatPadded(parts, shape, session.padding, room);
    const tokens = order.map((i) => inputs[i]!.tokens);
    const { logits, logitsWidth: w, present } = await session.run(tokens, past);
    const v = this.model.config.vocabSize;
    const outputs = new Array<ForwardOutput<RuntimeKv>>(inputs.length);
    order.forEach((i, row) => {
      const input = inputs[i]!;
      const last = (row * w + w - 1) * v; // logits come right-aligned: the row's last token
      outputs[i] = {
        logits: logits.slice(last, last + v),
        kv: new RuntimeKv(
          {
            view: { padded: present, row },
            numTokens: (input.past?.numTokens ?? 0) + input.tokens.length,
          },
          shape,
        ),
      };
    });
    return outputs;
  }

  createDecoder(request: GenerateRequest): SequenceDecoder {
    // generate's own token chooser (validates the request too): same picks, same stop rules.
    const state = this.model.createDecoder(request);
    return {
      next(logits) {
        const token = state.pick(logits);
        state.accept(token);
        return { token, done: state.done };
      },
      result() {
        const { text, tokens, finishReason } = state.result();
        return { text, tokens, finishReason };
      },
    };
  }
}

/** Whether an executor's model is the runtime's Model (so the worker can drive its forward). */
export function isRuntimeModel(model: unknown): model is Model {
  const m = model as Partial<Model> | undefined;
  return (
    typeof m?.prefill === "function" &&
    typeof m.encodeChat === "function" &&
    typeof m.config?.numLayers === "number" &&
    m.tokenizer !== undefined
  );
}
