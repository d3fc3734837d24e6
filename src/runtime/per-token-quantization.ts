// Batch invariance for dynamically quantized graphs (q8, int8, uint8 files).
//
// onnxruntime's dynamic quantization emits DynamicQuantizeLinear before each MatMulInteger: one
// scale and zero point for the whole activation tensor, so a row's logits depend on what else is
// in the batch (its batch-mates' values and the padding widen the range): up to 0.61 in the last
// logits on the tiny int8 fixture, 10 of 40 greedy answers changed (docs/models.md).
// That breaks Halo's promise that batching, padding and prefix caching never change answers.
//
// The rewrite quantizes per token instead: each row of the last axis gets its own scale
// (max |x| / 127) around the fixed zero point 128, so every token is quantized from its own values
// only, whatever shares the tensor. MatMulInteger takes the new uint8 tensor and the scalar zero
// point unchanged (onnxruntime CPU accepts only a scalar A zero point, so per-row zero points are
// out: symmetric it is), and the scale Mul downstream broadcasts [..., rows, 1] against the weight
// scale. A DynamicQuantizeLinear whose outputs go anywhere else is left as it is.
//
// What remains with padded batches: float32 work upstream of a quantization (attention over
// left padding) differs between batched and alone by about 1e-7, and now and then that tips a
// value across a rounding boundary: one quantum in one token, where per tensor every row moved
// every time. Seen on an earlier seed of the int8 fixture: 0.076 in one row's logits and 1 of 40
// greedy answers, none without padding. So these graphs run unpadded by default (load-model.ts).
//
// One consumer does change: the scale product `Mul(xScale, wScale)` becomes
// `Div(wScale, 1 / xScale)`. onnxruntime's MatMulIntegerToFloat fusion (an "extended" graph
// optimization) matches MatMulInteger -> Cast -> Mul with a Mul of the two scales and assumes a
// scalar activation scale: fused, the per-token scales were misapplied (seen during development on
// a tiny int8 fixture: logits 1.15 off the fp32 twin instead of 0.2). A Div there leaves the
// pattern unmatched.
import { BufferSource, graphNodes, readModelLayout, type ByteSource } from "./onnx-proto.ts";
import {
  constant,
  floatScalar,
  int64s,
  intAttr,
  intsAttr,
  isDefaultDomain,
  node,
  rewriteModel,
  tensor,
  UINT8,
} from "./onnx-rewrite.ts";

export interface PerTokenRewrite {
  /** The rewritten model (absent when there was nothing to rewrite). */
  bytes?: Uint8Array;
  /** DynamicQuantizeLinear nodes rewritten. */
  rewritten: number;
  /** DynamicQuantizeLinear nodes left per tensor (outputs used in a way the rewrite cannot follow). */
  kept: number;
}

function inverseScale(yScale: string): string {
  return `${yScale}/per_token/inverse`;
}

/**
 * The per-token replacement of DynamicQuantizeLinear(x) -> (y, yScale, yZeroPoint), in as few
 * operators as it takes (each one costs a kernel launch per linear layer per step):
 *   inv = 127 / max(max|x| over the row, tiny)       [..., rows, 1]
 *   y   = uint8(x * inv + 128.5)                     Cast truncates: round half up, in [1, 255]
 *   yZeroPoint = 128
 * yScale itself is not produced: its only consumers, the scale Muls, become Div(w, inv).
 */
function perTokenNodes(x: string, [y, yScale, yZero]: string[], opset: number): Uint8Array[] {
  const p = `${y}/per_token`;
  const c = (suffix: string, value: number) => constant(`${p}/${suffix}`, floatScalar(value));
  const out: Uint8Array[] = [
    c("127", 127),
    c("128.5", 128.5),
    // smallest normal float: an all-zero row keeps a finite scale (0 * 127 / tiny = 0, not NaN)
    c("tiny", 1.1754943508222875e-38),
    node("Abs", [x], [`${p}/abs`], `${p}/Abs`),
  ];
  if (opset >= 18) {
    out.push(
      constant(`${p}/axes`, int64s([-1n])),
      node("ReduceMax", [`${p}/abs`, `${p}/axes`], [`${p}/max`], `${p}/ReduceMax`, [
        intAttr("keepdims", 1),
      ]),
    );
  } else {
    out.push(
      node("ReduceMax", [`${p}/abs`], [`${p}/max`], `${p}/ReduceMax`, [
        intsAttr("axes", [-1]),
        intAttr("keepdims", 1),
      ]),
    );
  }
  out.push(
    node("Max", [`${p}/max`, `${p}/tiny`], [`${p}/range`], `${p}/Max`),
    node("Div", [`${p}/127`, `${p}/range`], [inverseScale(yScale!)], `${p}/Inverse`),
    node("Mul", [x, inverseScale(yScale!)], [`${p}/scaled`], `${p}/Mul`),
    node("Add", [`${p}/scaled`, `${p}/128.5`], [`${p}/shifted`], `${p}/Add`),
    node("Cast", [`${p}/shifted`], [y!], `${p}/Cast`, [intAttr("to", UINT8)]),
    constant(yZero!, tensor(UINT8, Uint8Array.of(128))),
  );
  return out;
}

/** Which DynamicQuantizeLinear nodes (by quantized output name) only feed what the rewrite keeps exact. */
function rewritableOutputs(
  src: ByteSource,
  graph: [number, number],
): { ok: Set<string>; all: number } {
  const uses = new Map<string, { opType: string; index: number }[]>();
  const dqls: string[][] = [];
  for (const n of graphNodes(src, graph[0], graph[1])) {
    n.inputs.forEach((name, index) => {
      if (!name) return;
      const list = uses.get(name) ?? [];
      list.push({ opType: n.opType, index });
      uses.set(name, list);
    });
    if (n.opType === "DynamicQuantizeLinear" && isDefaultDomain(n.domain) && n.outputs.length === 3)
      dqls.push(n.outputs);
  }
  const ok = new Set<string>();
  for (const [y, scale, zero] of dqls) {
    const only = (name: string, opType: string, index?: number) =>
      (uses.get(name) ?? []).every(
        (u) => u.opType === opType && (index === undefined || u.index === index),
      );
    if (only(y!, "MatMulInteger", 0) && only(scale!, "Mul") && only(zero!, "MatMulInteger", 2))
      ok.add(y!);
  }
  return { ok, all: dqls.length };
}

/**
 * The model with every rewritable DynamicQuantizeLinear quantizing per token (see above).
 * `dataFile`: the model file's own name; its weights are then referenced in place (load the result
 * with that file's folder as the external-data folder), so only nodes and headers are read.
 */
export function quantizePerToken(
  model: ByteSource | Uint8Array,
  options: { dataFile?: string } = {},
): PerTokenRewrite {
  const src = model instanceof Uint8Array ? new BufferSource(model) : model;
  const layout = readModelLayout(src);
  const { ok, all } = rewritableOutputs(src, layout.graph);
  if (ok.size === 0) return { rewritten: 0, kept: all };
  // All outputs of the rewritten nodes (their shape facts go), and their scales (the Muls that
  // consume them become Divs).
  const changed = new Set<string>();
  const scales = new Set<string>();
  for (const n of graphNodes(src, layout.graph[0], layout.graph[1]))
    if (n.opType === "DynamicQuantizeLinear" && ok.has(n.outputs[0]!)) {
      n.outputs.forEach((o) => changed.add(o));
      scales.add(n.outputs[1]!);
    }
  const bytes = rewriteModel(
    src,
    {
      replace(n) {
        if (n.opType === "DynamicQuantizeLinear" && ok.has(n.outputs[0]!))
          return perTokenNodes(n.inputs[0]!, n.outputs, layout.opset);
        const scaleAt = n.opType === "Mul" ? n.inputs.findIndex((i) => scales.has(i)) : -1;
        if (scaleAt < 0) return undefined;
        // Mul(xScale, w) -> Div(w, 1 / xScale): same product, and no scalar-scale fusion
        const other = n.inputs[1 - scaleAt]!;
        const inv = inverseScale(n.inputs[scaleAt]!);
        return [node("Div", [other, inv], n.outputs, `${n.outputs[0]}/per_token/Div`)];
      },
      // shape facts about a rewritten scale (a scalar before, [..., rows, 1] now) would conflict
      staleValueInfo: (name) => changed.has(name),
    },
    options,
  );
  return { bytes, rewritten: ok.size, kept: all - ok.size };
}
