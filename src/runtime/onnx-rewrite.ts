// Editing an ONNX graph without loading it: the model's protobuf is walked field by field, the
// nodes an edit names are replaced, and everything else is copied as it is. Large weights are not
// copied at all: with `dataFile` they become external-data references to their own bytes in the
// original file, so a rewritten 500 MB model is a graph of a few hundred KB that onnxruntime loads
// next to the file it came from. Three rewrites use it: last-position logits, per-token
// quantization and new-positions KV outputs; they compose (each reads the previous one's bytes,
// whose weights are already references).
import {
  BufferSource,
  concatBytes,
  fields,
  fieldString,
  lenField,
  readNode,
  varint,
  varintField,
  type ByteSource,
  type NodeInfo,
} from "./onnx-proto.ts";

export const FLOAT = 1;
export const UINT8 = 2;
export const INT64 = 7;

export function isDefaultDomain(domain: string): boolean {
  return domain === "" || domain === "ai.onnx";
}

/** A TensorProto: dims, data type and raw little-endian bytes. */
export function tensor(dataType: number, raw: Uint8Array, dims: number[] = []): Uint8Array {
  return concatBytes([
    ...dims.map((d) => varintField(1, d)),
    varintField(2, dataType),
    lenField(9, raw),
  ]);
}

export function floatScalar(value: number): Uint8Array {
  return tensor(FLOAT, new Uint8Array(Float32Array.of(value).buffer));
}

export function int64s(values: bigint[]): Uint8Array {
  return tensor(INT64, new Uint8Array(BigInt64Array.from(values).buffer), [values.length]);
}

type Attribute = Uint8Array;

export function intsAttr(name: string, values: number[]): Attribute {
  return concatBytes([
    lenField(1, name),
    ...values.map((v) => Uint8Array.from([...varint(8 * 8), ...varint(v)])),
    varintField(20, 7),
  ]);
}

export function intAttr(name: string, value: number): Attribute {
  return concatBytes([lenField(1, name), varintField(3, value), varintField(20, 2)]);
}

export function tensorAttr(name: string, t: Uint8Array): Attribute {
  return concatBytes([lenField(1, name), lenField(5, t), varintField(20, 4)]);
}

/** A NodeProto of the default domain, as the graph's field 1. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: Attribute[] = [],
): Uint8Array {
  return lenField(
    1,
    concatBytes([
      ...inputs.map((i) => lenField(1, i)),
      ...outputs.map((o) => lenField(2, o)),
      lenField(3, name),
      lenField(4, opType),
      ...attrs.map((a) => lenField(5, a)),
    ]),
  );
}

/** A Constant node whose output `name` is the TensorProto `value`. */
export function constant(name: string, value: Uint8Array): Uint8Array {
  return node("Constant", [], [name], name, [tensorAttr("value", value)]);
}

/**
 * The node in [start, end) of `src` with its inputs replaced by `inputs` (same count), every other
 * field (domain, attributes, name) as it was: for nodes of any domain and attribute set.
 */
export function withInputs(
  src: ByteSource,
  start: number,
  end: number,
  inputs: readonly string[],
): Uint8Array {
  const out: Uint8Array[] = [];
  let i = 0;
  for (const f of fields(src, start, end))
    out.push(f.field === 1 ? lenField(1, inputs[i++]!) : src.bytes(f.start, f.end));
  return lenField(1, concatBytes(out));
}

/** What a rewrite changes. */
export interface GraphEdit {
  /**
   * The node at [start, end) of `src` (main graph or subgraph): the graph fields (each a
   * `node(...)`) that replace it, or undefined to keep it.
   */
  replace(n: NodeInfo, src: ByteSource, start: number, end: number): Uint8Array[] | undefined;
  /** value_info entries whose shape facts the edit made wrong (they are dropped). */
  staleValueInfo?(name: string): boolean;
}

/** Bytes as a list of chunks, written out once at the end: weights are never copied twice. */
type Chunks = Uint8Array[];

function sized(field: number, chunks: Chunks): Chunks {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  return [Uint8Array.from([...varint(field * 8 + 2), ...varint(length)]), ...chunks];
}

interface Rewrite {
  src: ByteSource;
  edit: GraphEdit;
  /** Weights stay in this file (the original, beside the rewritten graph) instead of being copied. */
  dataFile?: string;
}

function rewriteGraph(r: Rewrite, start: number, end: number): Chunks {
  const { src } = r;
  const out: Chunks = [];
  for (const f of fields(src, start, end)) {
    if (f.field === 1) {
      const n = readNode(src, f.valueStart, f.end);
      const replaced = r.edit.replace(n, src, f.valueStart, f.end);
      if (replaced) {
        out.push(...replaced);
        continue;
      }
      if (n.subgraphs.length > 0) {
        out.push(...sized(1, rewriteNode(r, f.valueStart, f.end)));
        continue;
      }
    } else if (f.field === 5 && r.dataFile) {
      out.push(...sized(5, externalize(r, f.valueStart, f.end)));
      continue;
    } else if (f.field === 13 && r.edit.staleValueInfo) {
      const name = [...fields(src, f.valueStart, f.end)].find((v) => v.field === 1);
      if (name && r.edit.staleValueInfo(fieldString(src, name))) continue;
    }
    out.push(src.bytes(f.start, f.end));
  }
  return out;
}

function rewriteNode(r: Rewrite, start: number, end: number): Chunks {
  const out: Chunks = [];
  for (const f of fields(r.src, start, end)) {
    if (f.field !== 5) {
      out.push(r.src.bytes(f.start, f.end));
      continue;
    }
    const attr: Chunks = [];
    for (const a of fields(r.src, f.valueStart, f.end)) {
      if (a.field === 6 || a.field === 11)
        attr.push(...sized(a.field, rewriteGraph(r, a.valueStart, a.end)));
      else if (a.field === 5 && r.dataFile)
        attr.push(...sized(5, externalize(r, a.valueStart, a.end)));
      else attr.push(r.src.bytes(a.start, a.end));
    }
    out.push(...sized(5, attr));
  }
  return out;
}

/**
 * A TensorProto whose raw_data (TensorProto field 9) is large, as a reference to those same bytes
 * in the original file (external data: fields 13 location/offset/length and 14 data_location), so
 * the rewritten graph is small and onnxruntime reads the weights from where they already are.
 */
function externalize(r: Rewrite, start: number, end: number): Chunks {
  const out: Chunks = [];
  let raw: [number, number] | undefined;
  for (const f of fields(r.src, start, end)) {
    if (f.field === 9 && f.end - f.valueStart >= 4096) raw = [f.valueStart, f.end];
    else out.push(r.src.bytes(f.start, f.end));
  }
  if (!raw) return out;
  const entry = (key: string, value: string) =>
    lenField(13, concatBytes([lenField(1, key), lenField(2, value)]));
  out.push(
    entry("location", r.dataFile!),
    entry("offset", String(raw[0])),
    entry("length", String(raw[1] - raw[0])),
    varintField(14, 1),
  );
  return out;
}

/**
 * The model with `edit` applied to its graph and subgraphs. `dataFile`: the model file's own name;
 * its weights are then referenced in place (load the result with that file's folder as the
 * external-data folder), so only nodes and headers are read.
 */
export function rewriteModel(
  model: ByteSource | Uint8Array,
  edit: GraphEdit,
  options: { dataFile?: string } = {},
): Uint8Array {
  const src = model instanceof Uint8Array ? new BufferSource(model) : model;
  const r: Rewrite = { src, edit, ...(options.dataFile ? { dataFile: options.dataFile } : {}) };
  const parts: Chunks = [];
  for (const f of fields(src)) {
    if (f.field === 7 && f.wire === 2)
      parts.push(...sized(7, rewriteGraph(r, f.valueStart, f.end)));
    else parts.push(src.bytes(f.start, f.end));
  }
  return concatBytes(parts);
}
