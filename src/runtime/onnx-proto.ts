// Just enough of the protobuf wire format to read an ONNX model's operators and rewrite a few
// nodes, without a protobuf dependency. ONNX field numbers used (onnx.proto):
//   ModelProto  7 graph, 8 opset_import (OperatorSetIdProto: 1 domain, 2 version)
//   GraphProto  1 node, 5 initializer, 13 value_info (ValueInfoProto: 1 name)
//   NodeProto   1 input, 2 output, 3 name, 4 op_type, 5 attribute, 7 domain
//   AttributeProto 1 name, 2 f, 3 i, 5 t, 6 g, 8 ints, 11 graphs, 20 type
//   TensorProto 1 dims, 2 data_type, 9 raw_data
// Weights (initializers) are skipped by length, never decoded: scanning a 2 GB file reads only its
// field headers and nodes (`FileSource` reads from disk in 64 KiB windows).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Bytes addressable by offset: a buffer in memory or a file read on demand. */
export interface ByteSource {
  readonly length: number;
  byte(at: number): number;
  bytes(start: number, end: number): Uint8Array;
}

export class BufferSource implements ByteSource {
  constructor(readonly buf: Uint8Array) {}
  get length(): number {
    return this.buf.length;
  }
  byte(at: number): number {
    return this.buf[at]!;
  }
  bytes(start: number, end: number): Uint8Array {
    return this.buf.subarray(start, end);
  }
}

export class FileSource implements ByteSource {
  readonly length: number;
  private readonly fd: number;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(path: string) {
    this.fd = openSync(path, "r");
    this.length = fstatSync(this.fd).size;
  }

  byte(at: number): number {
    if (at < this.windowStart || at >= this.windowStart + this.window.length) {
      // small windows: a scan jumps from one field header to the next over megabytes of weights
      const size = Math.min(1 << 16, this.length - at);
      this.window = Buffer.alloc(size);
      readSync(this.fd, this.window, 0, size, at);
      this.windowStart = at;
    }
    return this.window[at - this.windowStart]!;
  }

  bytes(start: number, end: number): Uint8Array {
    const out = Buffer.alloc(end - start);
    readSync(this.fd, out, 0, end - start, start);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface Field {
  field: number;
  wire: number;
  /** Offset of the tag (the whole field is [start, end)). */
  start: number;
  /** Offset of the payload (for length-delimited fields). */
  valueStart: number;
  end: number;
  /** The varint value (wire type 0). */
  value: number;
}

function readVarint(src: ByteSource, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= src.length) throw new Error("truncated protobuf varint");
    const b = src.byte(at++);
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at];
    scale *= 128;
  }
}

/** The fields of the message in [start, end), in order. */
export function* fields(src: ByteSource, start = 0, end = src.length): Generator<Field> {
  let at = start;
  while (at < end) {
    const fieldStart = at;
    const [tag, afterTag] = readVarint(src, at);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let valueStart = afterTag;
    let fieldEnd: number;
    let value = 0;
    if (wire === 0) [value, fieldEnd] = readVarint(src, afterTag);
    else if (wire === 1) fieldEnd = afterTag + 8;
    else if (wire === 5) fieldEnd = afterTag + 4;
    else if (wire === 2) {
      const [len, after] = readVarint(src, afterTag);
      valueStart = after;
      fieldEnd = after + len;
    } else throw new Error(`unsupported protobuf wire type ${wire} (not an ONNX model?)`);
    if (fieldEnd > end) throw new Error("truncated protobuf message (not an ONNX model?)");
    yield { field, wire, start: fieldStart, valueStart, end: fieldEnd, value };
    at = fieldEnd;
  }
}

const decoder = new TextDecoder();

export function fieldString(src: ByteSource, f: Field): string {
  return decoder.decode(src.bytes(f.valueStart, f.end));
}

export interface NodeInfo {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Subgraph payloads ([start, end) of GraphProto bytes) of graph-valued attributes. */
  subgraphs: [number, number][];
}

export function readNode(src: ByteSource, start: number, end: number): NodeInfo {
  const node: NodeInfo = { opType: "", domain: "", inputs: [], outputs: [], subgraphs: [] };
  for (const f of fields(src, start, end)) {
    if (f.field === 1) node.inputs.push(fieldString(src, f));
    else if (f.field === 2) node.outputs.push(fieldString(src, f));
    else if (f.field === 4) node.opType = fieldString(src, f);
    else if (f.field === 7) node.domain = fieldString(src, f);
    else if (f.field === 5) {
      for (const a of fields(src, f.valueStart, f.end))
        if (a.field === 6 || a.field === 11) node.subgraphs.push([a.valueStart, a.end]);
    }
  }
  return node;
}

/** Every node of the graph in [start, end) and of its subgraphs, depth first. */
/** Names of a graph's inputs (GraphProto field 11) or outputs (field 12). */
export function valueNames(src: ByteSource, graph: [number, number], field: 11 | 12): string[] {
  const names: string[] = [];
  for (const f of fields(src, graph[0], graph[1])) {
    if (f.field !== field) continue;
    const name = [...fields(src, f.valueStart, f.end)].find((v) => v.field === 1);
    if (name) names.push(fieldString(src, name));
  }
  return names;
}

export function* graphNodes(src: ByteSource, start: number, end: number): Generator<NodeInfo> {
  for (const f of fields(src, start, end)) {
    if (f.field !== 1) continue;
    const node = readNode(src, f.valueStart, f.end);
    yield node;
    for (const [s, e] of node.subgraphs) yield* graphNodes(src, s, e);
  }
}

export interface ModelLayout {
  /** [start, end) of the main GraphProto payload. */
  graph: [number, number];
  /** Version of the default ("" / "ai.onnx") operator set. */
  opset: number;
}

export function readModelLayout(src: ByteSource): ModelLayout {
  let graph: [number, number] | undefined;
  let opset = 0;
  for (const f of fields(src)) {
    if (f.field === 7 && f.wire === 2) graph = [f.valueStart, f.end];
    else if (f.field === 8 && f.wire === 2) {
      let domain = "";
      let version = 0;
      for (const o of fields(src, f.valueStart, f.end)) {
        if (o.field === 1) domain = fieldString(src, o);
        else if (o.field === 2) version = o.value;
      }
      if (domain === "" || domain === "ai.onnx") opset = version;
    }
  }
  if (!graph) throw new Error("no graph in this file (not an ONNX model?)");
  return { graph, opset };
}

/** Operator types used anywhere in a model file (subgraphs included), and its default opset. */
export function modelOperators(src: ByteSource): { ops: Set<string>; opset: number } {
  const layout = readModelLayout(src);
  const ops = new Set<string>();
  for (const n of graphNodes(src, layout.graph[0], layout.graph[1])) ops.add(n.opType);
  return { ops, opset: layout.opset };
}

// ---- writing ----

/** Varint bytes of an integer; negatives as 64-bit two's complement (ten bytes), as int64 fields are. */
export function varint(value: number): number[] {
  if (value < 0) {
    const out: number[] = [];
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return out;
  }
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push(v % 128 | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const encoder = new TextEncoder();

/** A length-delimited field (strings, bytes, sub-messages). */
export function lenField(field: number, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const head = [...varint(field * 8 + 2), ...varint(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

export function varintField(field: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(field * 8), ...varint(value)]);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
