// KV correctness: cached decode equals recompute, mixed-length batches equal each alone, a copied
// prefix KV continues exactly like the full prompt, and SequenceKv moves are lossless.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  getModel,
  packSequences,
  selectRows,
  SequenceKv,
  splitPadded,
  concatPadded,
  compactRows,
  placeRows,
} from "../../src/runtime/index.ts";
import type { Model } from "../../src/runtime/index.ts";

const TOL = 1e-4;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, "same length");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function kvDiff(a: SequenceKv, b: SequenceKv): number {
  assert.is(a.length, b.length, "same KV length");
  let m = 0;
  for (let l = 0; l < a.shape.numLayers; l++) {
    m = Math.max(m, maxDiff(a.keys[l]!, b.keys[l]!), maxDiff(a.values[l]!, b.values[l]!));
  }
  return m;
}

function review(model: Model, text: string): number[] {
  return model.encodeChat([
    {
      role: "user",
      content: `Classify the sentiment of this review as positive, negative or neutral.\nReview: ${text}`,
    },
  ]);
}

test("decoding with cached KV gives the logits of recomputing the whole sequence", async () => {
  // every position's logits, to compare each decode step with the whole sequence's
  const model = await getModel(undefined, { allPositionLogits: true });
  const prompt = review(model, "The blender is excellent. Highly recommend this blender.");
  let [out] = await model.prefill([{ tokens: prompt }]);
  const seq = [...prompt];
  const stepLogits: Float32Array[] = [out!.logits];
  for (let i = 0; i < 8; i++) {
    let next = 0;
    for (let j = 1; j < out!.logits.length; j++) if (out!.logits[j]! > out!.logits[next]!) next = j;
    seq.push(next);
    [out] = await model.decodeStep([{ token: next, past: out!.kv }]);
    stepLogits.push(out!.logits);
  }
  assert.is(out!.kv.length, seq.length);
  const [whole] = await model.prefill([{ tokens: seq }], { allLogits: true });
  const v = model.config.vocabSize;
  let worst = 0;
  stepLogits.forEach((logits, i) => {
    const at = (prompt.length - 1 + i) * v;
    worst = Math.max(worst, maxDiff(logits, whole!.allLogits!.subarray(at, at + v)));
  });
  assert.ok(worst < TOL, `max |diff| ${worst}`);
  assert.ok(kvDiff(out!.kv, whole!.kv) < TOL);
  console.log(`measure: cached vs recomputed logits max |diff| ${worst.toExponential(2)}`);
});

test("a batch of mixed-length sequences gives what each gives alone", async () => {
  const model = await getModel();
  const prompts = [
    review(model, "Bad."),
    review(model, "The kettle is okay. It is an average kettle, the price is fine."),
    model.encode("The blender"),
  ];
  const batch = await model.prefill(prompts.map((tokens) => ({ tokens })));
  let worst = 0;
  for (const [i, tokens] of prompts.entries()) {
    const [alone] = await model.prefill([{ tokens }]);
    worst = Math.max(
      worst,
      maxDiff(batch[i]!.logits, alone!.logits),
      kvDiff(batch[i]!.kv, alone!.kv),
    );
  }
  // one decode step for sequences with pasts of different lengths
  const steps = await model.decodeStep(batch.map((b, i) => ({ token: 100 + i, past: b.kv })));
  for (const [i, b] of batch.entries()) {
    const [alone] = await model.decodeStep([{ token: 100 + i, past: b.kv }]);
    worst = Math.max(
      worst,
      maxDiff(steps[i]!.logits, alone!.logits),
      kvDiff(steps[i]!.kv, alone!.kv),
    );
  }
  assert.ok(worst < TOL, `max |diff| ${worst}`);
  console.log(`measure: batched vs alone max |diff| ${worst.toExponential(2)}`);
});

test("continuing from a copied prefix KV equals the full prompt from scratch", async () => {
  const model = await getModel();
  const a = review(model, "I love this teapot.");
  const b = review(model, "Terrible toaster, it broke after a week. Do not buy this toaster.");
  let shared = 0;
  while (a[shared] === b[shared]) shared++;
  assert.ok(shared > 20, "the instruction is a shared token prefix");
  const [prefix] = await model.prefill([{ tokens: a.slice(0, shared) }]);
  // a prefix taken from a longer sequence by slicing is the same KV
  const [fullA] = await model.prefill([{ tokens: a }]);
  assert.ok(kvDiff(fullA!.kv.slice(shared), prefix!.kv) < TOL);
  const conts = await model.prefill([
    { tokens: a.slice(shared), past: prefix!.kv.copy() },
    { tokens: b.slice(shared), past: prefix!.kv.copy() },
  ]);
  const [fullB] = await model.prefill([{ tokens: b }]);
  const worst = Math.max(
    maxDiff(conts[0]!.logits, fullA!.logits),
    maxDiff(conts[1]!.logits, fullB!.logits),
    kvDiff(conts[0]!.kv, fullA!.kv),
    kvDiff(conts[1]!.kv, fullB!.kv),
  );
  assert.ok(worst < TOL, `max |diff| ${worst}`);
  // a prefix continued by its own rest via append equals the whole
  assert.ok(kvDiff(prefix!.kv.append(fullA!.kv.slice(a.length).slice(0)), prefix!.kv) < TOL);
});

function fakeKv(length: number, seed: number): SequenceKv {
  const shape = { numLayers: 2, numKvHeads: 2, headDim: 3 };
  const make = (l: number, kind: number) =>
    Float32Array.from({ length: 2 * length * 3 }, (_, i) => seed * 1000 + l * 100 + kind * 10 + i);
  return new SequenceKv(shape, length, [make(0, 0), make(1, 0)], [make(0, 1), make(1, 1)]);
}

test("SequenceKv: slice, append, pack into a batch and split back are lossless", () => {
  const a = fakeKv(4, 1);
  const b = fakeKv(2, 2);
  const joined = a.append(b);
  assert.is(joined.length, 6);
  assert.equal(joined.slice(4).keys, a.keys);
  assert.equal(joined.copy().values, joined.values);
  assert.is(a.byteSize, 2 * 2 * 2 * 4 * 3 * 4);
  const padded = packSequences([a, b, SequenceKv.empty(a.shape)], a.shape);
  assert.is(padded.width, 4);
  const back = splitPadded(padded, a.shape);
  assert.equal(back[0]!.keys, a.keys);
  assert.equal(back[1]!.values, b.values);
  assert.is(back[2]!.length, 0);
  const picked = splitPadded(selectRows(padded, [1], a.shape), a.shape);
  assert.equal(picked[0]!.keys, b.keys);
  const stacked = splitPadded(
    concatPadded([packSequences([b], a.shape), packSequences([a], a.shape)], a.shape),
    a.shape,
  );
  assert.equal(stacked[0]!.keys, b.keys);
  assert.equal(stacked[1]!.values, a.values);
  assert.throws(() => a.slice(5), /length is 4/);
  assert.throws(() => new SequenceKv(a.shape, 3, a.keys, a.values), /expected \[2, 3, 3\]/);
});

function fakeHalfKv(length: number, seed: number): SequenceKv {
  const shape = { numLayers: 2, numKvHeads: 2, headDim: 3, kvType: "float16" as const };
  const make = (l: number, kind: number) =>
    Uint16Array.from({ length: 2 * length * 3 }, (_, i) => seed * 1000 + l * 100 + kind * 10 + i);
  return new SequenceKv(shape, length, [make(0, 0), make(1, 0)], [make(0, 1), make(1, 1)]);
}

test("float16 KV stays raw 2-byte values through every move (pack left/right, compact, place)", () => {
  const a = fakeHalfKv(4, 1);
  const b = fakeHalfKv(2, 2);
  const shape = a.shape;
  assert.is(a.byteSize, 2 * 2 * 2 * 4 * 3 * 2, "2 bytes a value");
  assert.instance(a.append(b).keys[0], Uint16Array);
  assert.equal(a.append(b).span(4, 6).values, b.values);
  for (const padding of ["left", "right"] as const) {
    const padded = packSequences([a, b], shape, padding);
    assert.instance(padded.keys[1], Uint16Array);
    const back = splitPadded(padded, shape);
    assert.equal(back[0]!.keys, a.keys, padding);
    assert.equal(back[1]!.values, b.values, padding);
    // rows moved together and back to their places, on either side
    const compact = compactRows(padded, [1], shape, padding === "left" ? "right" : "left");
    assert.equal(splitPadded(compact, shape)[0]!.keys, b.keys);
    const placed = placeRows(
      [
        { padded: compact, rows: [0] },
        { padded: packSequences([a], shape), rows: [1] },
      ],
      2,
      shape,
      padding,
    );
    const order = splitPadded(placed, shape);
    assert.equal(order[0]!.keys, b.keys);
    assert.equal(order[1]!.values, a.values);
  }
  assert.throws(
    () => new SequenceKv(shape, 4, fakeKv(4, 1).keys, fakeKv(4, 1).values),
    /expected Uint16Array \(float16 bits\)/,
  );
});

test("generate: greedy results of a batch equal each request alone", async () => {
  const model = await getModel();
  const prompts = [
    review(model, "Great laptop, works perfectly."),
    model.encodeChat([
      {
        role: "user",
        content: "Extract the city from this record.\nRecord: name: Ana Silva; city: Lima; age: 31",
      },
    ]),
    review(model, "The scarf is fine, nothing special."),
  ];
  const requests = prompts.map((promptTokens) => ({ promptTokens, sampling: { maxTokens: 12 } }));
  const together = await model.generate(requests);
  for (const [i, r] of requests.entries()) {
    const [alone] = await model.generate([r]);
    assert.equal(together[i]!.tokens, alone!.tokens);
    assert.is(together[i]!.text, alone!.text);
  }
});

test("createDecoder + prefill/decodeStep on a cached prefix reproduce generate", async () => {
  const model = await getModel();
  const a = review(model, "Great laptop, works perfectly.");
  const b = review(model, "Awful kettle, the price fell apart.");
  let shared = 0;
  while (a[shared] === b[shared]) shared++;
  const [prefix] = await model.prefill([{ tokens: a.slice(0, shared) }]);
  const requests = [a, b].map((promptTokens) => ({ promptTokens, sampling: { maxTokens: 10 } }));
  const expected = await model.generate(requests);
  const states = requests.map((r, i) => model.createDecoder(r, i));
  let outs = await model.prefill([
    { tokens: a.slice(shared), past: prefix!.kv },
    { tokens: b.slice(shared), past: prefix!.kv },
  ]);
  let live = [0, 1];
  for (;;) {
    live.forEach((i, row) => states[i]!.accept(states[i]!.pick(outs[row]!.logits)));
    const next = live.map((i, row) => ({ i, row })).filter(({ i }) => !states[i]!.done);
    if (next.length === 0) break;
    outs = await model.decodeStep(
      next.map(({ i, row }) => ({ token: states[i]!.tokens.at(-1)!, past: outs[row]!.kv })),
    );
    live = next.map(({ i }) => i);
  }
  states.forEach((st, i) => {
    assert.equal(st.result().tokens, expected[i]!.tokens);
    assert.is(st.result().text, expected[i]!.text);
  });
});

test.run();
