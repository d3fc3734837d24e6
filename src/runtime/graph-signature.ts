// What a decoder graph takes and returns, read from the session's own metadata before deciding how
// to feed it (transformers.js does the same): input and output names (Optimum's, or those an
// onnxruntime-genai config names), the KV and logits element types, optional inputs
// (position_ids, use_cache_branch of a merged decoder, num_logits_to_keep), and whether logits come
// for the last position only. Disagreements with config.json fail here, naming the file.
import type ort from "onnxruntime-node";
import type { KvType } from "./kv-cache.ts";
import { ModelFolderError } from "./model-files.ts";
import type { ModelConfig } from "./types.ts";

export interface GraphSignature {
  inputIds: string;
  /** The 2D mask; absent in genai builds that take per-row lengths instead (below). */
  attentionMask?: string;
  maskType: "int64" | "int32";
  /** Per-row lengths as inputs (GroupQueryAttention's own): real tokens - 1, int32 [batch]. */
  seqlensK?: string;
  /** ... and past width + new width, an int32 scalar. */
  totalSequenceLength?: string;
  /** Absent in GPT-2-style graphs (positions from the past length) and fused-rotary genai builds. */
  positionIds?: string;
  /** The bool input of a merged decoder (`decoder_model_merged*.onnx`): true when a past is fed. */
  useCacheBranch?: string;
  /** `num_logits_to_keep` (or `logits_to_keep`): how many last positions get logits. */
  logitsToKeep?: string;
  logits: string;
  logitsType: "float32" | "float16";
  /** The graph returns logits for the last position only (a static 1 on the sequence axis). */
  lastLogitsOnly: boolean;
  pastKeys: string[];
  pastValues: string[];
  presentKeys: string[];
  presentValues: string[];
  kvType: KvType;
}

const DEFAULT_NAMES: Record<string, string> = {
  input_ids: "input_ids",
  attention_mask: "attention_mask",
  position_ids: "position_ids",
  seqlens_k: "seqlens_k",
  total_sequence_length: "total_sequence_length",
  past_key_names: "past_key_values.%d.key",
  past_value_names: "past_key_values.%d.value",
  logits: "logits",
  present_key_names: "present.%d.key",
  present_value_names: "present.%d.value",
};

function tensorMeta(list: readonly ort.InferenceSession.ValueMetadata[], name: string) {
  const m = list.find((x) => x.name === name);
  return m?.isTensor ? m : undefined;
}

/**
 * Reads and checks the signature. `names` overrides input/output names (genai_config.json's
 * `inputs`/`outputs`, with `%d` for the layer).
 */
export function readSignature(
  session: ort.InferenceSession,
  config: ModelConfig,
  path: string,
  names: Record<string, string> = {},
): GraphSignature {
  const n = { ...DEFAULT_NAMES, ...names };
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const layer = (template: string, l: number) => template.replace("%d", String(l));
  const lengths = inputs.has(n.seqlens_k!) && inputs.has(n.total_sequence_length!);
  for (const key of lengths ? ["input_ids"] : ["input_ids", "attention_mask"]) {
    if (!inputs.has(n[key]!))
      throw new ModelFolderError(
        `${path} has no input "${n[key]}": expected inputs input_ids, attention_mask, [position_ids] and past_key_values.{i}.key/.value (an Optimum "text-generation-with-past" export)`,
      );
  }
  if (!inputs.has(layer(n.past_key_names!, 0)))
    throw new ModelFolderError(
      `${path} has no past_key_values.* inputs: Halo needs a decoder exported with its KV cache (Optimum task "text-generation-with-past"; files named decoder_model_merged.onnx or model.onnx with past inputs)`,
    );
  if (!outputs.has(n.logits!)) throw new ModelFolderError(`${path} has no "${n.logits}" output`);
  const sig: GraphSignature = {
    inputIds: n.input_ids!,
    maskType:
      tensorMeta(session.inputMetadata, n.attention_mask!)?.type === "int32" ? "int32" : "int64",
    logits: n.logits!,
    logitsType: "float32",
    lastLogitsOnly: false,
    pastKeys: [],
    pastValues: [],
    presentKeys: [],
    presentValues: [],
    kvType: "float32",
  };
  if (inputs.has(n.attention_mask!)) sig.attentionMask = n.attention_mask!;
  if (lengths) {
    sig.seqlensK = n.seqlens_k!;
    sig.totalSequenceLength = n.total_sequence_length!;
  }
  if (inputs.has(n.position_ids!)) sig.positionIds = n.position_ids!;
  if (inputs.has("use_cache_branch")) sig.useCacheBranch = "use_cache_branch";
  for (const name of ["num_logits_to_keep", "logits_to_keep"])
    if (inputs.has(name)) sig.logitsToKeep = name;
  const kvTypes = new Set<string>();
  for (let l = 0; l < config.numLayers; l++) {
    for (const kind of ["key", "value"] as const) {
      const inName = layer(kind === "key" ? n.past_key_names! : n.past_value_names!, l);
      const outName = layer(kind === "key" ? n.present_key_names! : n.present_value_names!, l);
      if (!inputs.has(inName) || !outputs.has(outName))
        throw new ModelFolderError(
          `${path} lacks ${inName} or ${outName}, but config.json says num_hidden_layers=${config.numLayers}: the model file and config.json do not match`,
        );
      (kind === "key" ? sig.pastKeys : sig.pastValues).push(inName);
      (kind === "key" ? sig.presentKeys : sig.presentValues).push(outName);
      const m = tensorMeta(session.inputMetadata, inName);
      if (!m) continue;
      if (m.type !== "float32" && m.type !== "float16")
        throw new ModelFolderError(
          `${path}: ${inName} is ${m.type}; the runtime handles float32 and float16 KV`,
        );
      kvTypes.add(m.type);
      const [, heads, , dim] = m.shape;
      if (
        (typeof heads === "number" && heads !== config.numKvHeads) ||
        (typeof dim === "number" && dim !== config.headDim)
      )
        throw new ModelFolderError(
          `${path}: ${inName} has shape [${m.shape.join(", ")}] but config.json implies ${config.numKvHeads} KV heads of dimension ${config.headDim}`,
        );
    }
  }
  if (kvTypes.size > 1)
    throw new ModelFolderError(`${path} mixes float16 and float32 KV inputs: not supported`);
  sig.kvType = kvTypes.has("float16") ? "float16" : "float32";
  const logits = tensorMeta(session.outputMetadata, n.logits!);
  if (logits) {
    if (logits.type !== "float32" && logits.type !== "float16")
      throw new ModelFolderError(`${path}: logits are ${logits.type}; expected float32 or float16`);
    sig.logitsType = logits.type;
    sig.lastLogitsOnly = logits.shape[1] === 1;
    const vocab = logits.shape[2];
    if (typeof vocab === "number" && vocab !== config.vocabSize)
      throw new ModelFolderError(
        `vocabulary mismatch: ${path} produces ${vocab} logits per token but config.json says vocab_size ${config.vocabSize}`,
      );
  }
  return sig;
}
