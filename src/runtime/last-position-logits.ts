// Logits for the last position only, in graphs exported with logits for every position.
//
// Hugging Face's ONNX decoders (optimum, transformers.js) return logits [batch, positions, vocab]:
// a prompt of n tokens computes n rows of the LM head and writes n x vocab floats, of which a
// decoder reads one row. For SmolLM2-135M's shape the head is 28M of its 135M parameters, and
// 500 prompt tokens write 98 MB of logits; for Qwen2.5-0.5B's (vocab 151,936) 290 MB. The graph
// is rewritten so the head runs on the last position: a Slice of its activation input
// [batch, positions, hidden] -> [batch, 1, hidden] in front of the head's MatMul (or in front of
// the DynamicQuantizeLinear feeding an int8 head's MatMulInteger, which per-token quantization
// then quantizes row by row as before). Everything from the head on is per position, so the last
// row's logits are computed as before, and no KV depends on the head.
//
// Found by walking back from the `logits` output through Identity, Cast and Mul (an int8 head's
// scale) to a MatMul, MatMulNBits, MatMulBnb4 or FusedMatMul, or a MatMulInteger fed by a
// DynamicQuantizeLinear. A graph with a num_logits_to_keep input is left as it is (it computes
// the kept positions only already), and so is a graph of another form (a head on flattened [batch x positions, hidden]
// input, a Gemm) is left as it is: the loader checks a rewritten graph's first forward returns
// [batch, 1, vocab] and loads the original otherwise (load-model.ts).
import { BufferSource, fields, readModelLayout, readNode, valueNames } from "./onnx-proto.ts";
import type { ByteSource, NodeInfo } from "./onnx-proto.ts";
import {
  constant,
  int64s,
  isDefaultDomain,
  node,
  rewriteModel,
  withInputs,
} from "./onnx-rewrite.ts";

const HEADS = new Set(["MatMul", "MatMulNBits", "MatMulBnb4", "FusedMatMul"]);
const PASS_THROUGH = new Set(["Identity", "Cast", "Mul"]);
/** Longest Identity/Cast/Mul chain between the head and the logits output that is followed. */
const MAX_HOPS = 4;

export interface LastPositionRewrite {
  /** The rewritten model; absent when no head was found (the graph stays as it is). */
  bytes?: Uint8Array;
  /** The node whose activation input is sliced ("MatMul", "DynamicQuantizeLinear", ...). */
  slicedBefore?: string;
}

/** The main graph's nodes, by output name, with their byte ranges. */
function producers(src: ByteSource, graph: [number, number]) {
  const byOutput = new Map<string, NodeInfo>();
  for (const f of fields(src, graph[0], graph[1])) {
    if (f.field !== 1) continue;
    const n = readNode(src, f.valueStart, f.end);
    for (const o of n.outputs) byOutput.set(o, n);
  }
  return byOutput;
}

/**
 * The node whose input 0 is the head's activation, walking back from `logits`, and the outputs of
 * every node on the way (their positions axis becomes 1).
 */
function findHead(
  byOutput: Map<string, NodeInfo>,
  logits: string,
): { head: NodeInfo; path: Set<string> } | undefined {
  const path = new Set<string>([logits]);
  const found = (head: NodeInfo) => {
    head.outputs.forEach((o) => path.add(o));
    return { head, path };
  };
  let n = byOutput.get(logits);
  for (let hop = 0; n && hop <= MAX_HOPS; hop++) {
    if (HEADS.has(n.opType)) return found(n);
    n.outputs.forEach((o) => path.add(o));
    if (n.opType === "MatMulInteger" && isDefaultDomain(n.domain)) {
      const quantize = byOutput.get(n.inputs[0]!);
      return quantize?.opType === "DynamicQuantizeLinear" ? found(quantize) : undefined;
    }
    if (!PASS_THROUGH.has(n.opType) || !isDefaultDomain(n.domain)) return undefined;
    n = byOutput.get(n.inputs[0]!);
  }
  return undefined;
}

/**
 * `model` computing logits for the last position only (see above), or no bytes when its head is
 * not of a form the rewrite knows. `logits`: the output's name (genai configs may rename it).
 * `dataFile`: as for rewriteModel, the weights stay in that file.
 */
export function keepLastPositionLogits(
  model: ByteSource | Uint8Array,
  options: { logits?: string; dataFile?: string } = {},
): LastPositionRewrite {
  const src = model instanceof Uint8Array ? new BufferSource(model) : model;
  const { graph } = readModelLayout(src);
  const logits = options.logits ?? "logits";
  if (!valueNames(src, graph, 12).includes(logits)) return {};
  // A graph told how many positions to keep computes only those already, and can still give them
  // all (prefill's allLogits): it stays as it is.
  const inputs = valueNames(src, graph, 11);
  if (inputs.includes("num_logits_to_keep") || inputs.includes("logits_to_keep")) return {};
  const found = findHead(producers(src, graph), logits);
  if (!found) return {};
  const { head, path } = found;
  const target = head.outputs[0]!;
  const x = head.inputs[0]!;
  const p = `${x}/last_position`;
  let done = false;
  const bytes = rewriteModel(
    src,
    {
      replace(n, from, start, end) {
        // the main graph's head only (a subgraph may reuse names)
        if (done || n.outputs[0] !== target) return undefined;
        done = true;
        return [
          constant(`${p}/starts`, int64s([-1n])),
          constant(`${p}/ends`, int64s([2n ** 62n])),
          constant(`${p}/axes`, int64s([1n])),
          node("Slice", [x, `${p}/starts`, `${p}/ends`, `${p}/axes`], [p], `${p}/Slice`),
          withInputs(from, start, end, [p, ...n.inputs.slice(1)]),
        ];
      },
      // facts about the head's outputs on down (a positions axis of n) no longer hold
      staleValueInfo: (name) => path.has(name),
    },
    options,
  );
  return { bytes, slicedBefore: head.opType };
}
