// Present KV outputs that hold only the new positions, in graphs whose present is a Concat of the
// past input and the new keys or values (Optimum and transformers.js exports).
//
// Why: onnxruntime-node 1.30 copies every output into a fresh JavaScript ArrayBuffer after the
// run (its binding creates each output with napi_create_arraybuffer and copies into it). A
// decode step's present is the whole KV of the batch, one token longer: at 6 rows x 509 tokens
// of SmolLM2-135M's shape 140 MB copied every step, into memory that was never touched whenever
// the batch had grown (about 12 us a page on the bench machine). With this rewrite a step's
// outputs are 6 x 46 KB, and the decoder session appends them to a KV buffer with room to grow
// (decoder-session.ts), feeding the buffer itself as the next step's past.
//
// The Concat stays inside the graph, for attention; its output is renamed, and an Identity of its
// second input (the new keys or values, after RoPE) takes the graph output's name. Applied only
// when every output besides the logits is such a Concat of a graph input along the positions
// axis (2 or -2) in the main graph: a merged decoder (presents from an If), a GroupQueryAttention
// build (presents from the operator) or a graph of another form stays as it is.
import {
  BufferSource,
  concatBytes,
  fields,
  fieldString,
  lenField,
  readModelLayout,
  readNode,
  valueNames,
} from "./onnx-proto.ts";
import type { ByteSource, NodeInfo } from "./onnx-proto.ts";
import { isDefaultDomain, node, rewriteModel } from "./onnx-rewrite.ts";

/** Suffix of the renamed full (past + new) KV inside a rewritten graph. */
const ALL = "/past_and_new";
/** Nodes that may sit between the Concat and the output, or the input and the Concat. */
const PASS_THROUGH = new Set(["Identity", "Cast"]);
const MAX_HOPS = 3;

export interface NewKvRewrite {
  /** The rewritten model; absent when the graph is not of the form above. */
  bytes?: Uint8Array;
  /** Present outputs rewritten (2 per layer). */
  outputs?: number;
}

/** A node's integer attribute `name` (AttributeProto: 1 name, 3 i), or undefined. */
function intAttribute(src: ByteSource, start: number, end: number, name: string) {
  for (const f of fields(src, start, end)) {
    if (f.field !== 5) continue;
    let attrName = "";
    let value: number | undefined;
    for (const a of fields(src, f.valueStart, f.end)) {
      if (a.field === 1) attrName = fieldString(src, a);
      else if (a.field === 3) value = readSignedVarint(src, a.valueStart, a.end);
    }
    if (attrName === name) return value;
  }
  return undefined;
}

/**
 * A protobuf int64 varint (two's complement for negatives) as a number. Not `Field.value`: that
 * reads varints as unsigned doubles, and axis -2 is 2^64 - 2, which a double cannot hold.
 */
function readSignedVarint(src: ByteSource, start: number, end: number): number {
  const bytes = src.bytes(start, end);
  let v = 0n;
  let shift = 0n;
  for (const b of bytes) {
    v |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) break;
  }
  return Number(BigInt.asIntN(64, v));
}

/** `model` with present outputs of new positions only (see above), or no bytes. */
export function outputNewKvOnly(
  model: ByteSource | Uint8Array,
  options: { logits?: string; dataFile?: string } = {},
): NewKvRewrite {
  const src = model instanceof Uint8Array ? new BufferSource(model) : model;
  const { graph } = readModelLayout(src);
  const inputs = new Set(valueNames(src, graph, 11));
  const outputs = valueNames(src, graph, 12);
  const kvOutputs = new Set(outputs.filter((o) => o !== (options.logits ?? "logits")));
  if (kvOutputs.size === 0) return {};
  // Per KV output: the Concat behind it (through Identity or Cast nodes, as exports with another
  // KV type than their compute type have) and that chain from the Concat out to the output.
  const nodes = new Map<string, { n: NodeInfo; at: [number, number] }>();
  for (const f of fields(src, graph[0], graph[1])) {
    if (f.field !== 1) continue;
    const n = readNode(src, f.valueStart, f.end);
    for (const o of n.outputs) nodes.set(o, { n, at: [f.valueStart, f.end] });
  }
  const fromInput = (name: string): boolean => {
    for (let hop = 0; hop <= MAX_HOPS; hop++) {
      if (inputs.has(name)) return true;
      const p = nodes.get(name);
      if (!p || !PASS_THROUGH.has(p.n.opType) || !isDefaultDomain(p.n.domain)) return false;
      name = p.n.inputs[0]!;
    }
    return false;
  };
  const found = new Map<
    string,
    { newKv: string; chain: { n: NodeInfo; at: [number, number] }[] }
  >();
  for (const out of kvOutputs) {
    const chain: { n: NodeInfo; at: [number, number] }[] = [];
    let p = nodes.get(out);
    while (
      p &&
      PASS_THROUGH.has(p.n.opType) &&
      isDefaultDomain(p.n.domain) &&
      chain.length < MAX_HOPS
    ) {
      chain.unshift(p);
      p = nodes.get(p.n.inputs[0]!);
    }
    if (!p || p.n.opType !== "Concat" || !isDefaultDomain(p.n.domain) || p.n.inputs.length !== 2)
      return {};
    const axis = intAttribute(src, p.at[0], p.at[1], "axis");
    if ((axis !== 2 && axis !== -2) || !fromInput(p.n.inputs[0]!)) return {};
    found.set(out, { newKv: p.n.inputs[1]!, chain });
  }
  const renamed = (name: string) => (found.has(name) ? `${name}${ALL}` : name);
  const bytes = rewriteModel(
    src,
    {
      replace(n, from, start, end) {
        const out = n.outputs[0];
        const kv = out !== undefined ? found.get(out) : undefined;
        if (kv) {
          // the full KV keeps flowing to attention under a new name; the output name now holds
          // the new positions, through copies of the same Identity/Cast chain
          const replaced = [withNames(from, start, end, n.inputs.map(renamed), [renamed(out!)])];
          let x = kv.newKv;
          kv.chain.forEach((c, k) => {
            const y = k === kv.chain.length - 1 ? out! : `${out}/new_only_${k}`;
            replaced.push(withNames(from, c.at[0], c.at[1], [x], [y], `${y}/node`));
            x = y;
          });
          if (kv.chain.length === 0)
            replaced.push(node("Identity", [x], [out!], `${out}/new_only`));
          return replaced;
        }
        if (!n.inputs.some((i) => found.has(i))) return undefined;
        return [withNames(from, start, end, n.inputs.map(renamed), n.outputs)];
      },
      // the outputs' declared shapes (past + new positions) no longer hold
      staleValueInfo: (name) => found.has(name),
    },
    options,
  );
  return { bytes, outputs: found.size };
}

/** The node in [start, end) with its inputs and outputs replaced (same counts), all else kept. */
function withNames(
  src: ByteSource,
  start: number,
  end: number,
  inputs: readonly string[],
  outputs: readonly string[],
  name?: string,
): Uint8Array {
  const out: Uint8Array[] = [];
  let i = 0;
  let o = 0;
  for (const f of fields(src, start, end)) {
    if (f.field === 1) out.push(lenField(1, inputs[i++]!));
    else if (f.field === 2) out.push(lenField(2, outputs[o++]!));
    else if (f.field === 3 && name !== undefined) out.push(lenField(3, name));
    else out.push(src.bytes(f.start, f.end));
  }
  return lenField(1, concatBytes(out));
}
