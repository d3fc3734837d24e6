// The runtime's public surface: other modules import from here only.
export {
  loadModel,
  getModel,
  getModelReplica,
  shippedModelDir,
  type LoadOptions,
} from "./load-model.ts";
export { loadSourceModel } from "./load-source.ts";
export { Model, type PrefillInput, type PrefillOutput, type DecodeInput } from "./model.ts";
export {
  SequenceKv,
  packKv,
  unpackKv,
  allocKv,
  concatSequences,
  kvBytesPerToken,
  kvElementBytes,
  sameKvShape,
  type KvShape,
  type KvType,
  type KvArray,
} from "./kv-cache.ts";
export {
  packSequences,
  splitPadded,
  selectRows,
  concatPadded,
  maskSpans,
  compactRows,
  placeRows,
  hasRoom,
  KV_ROOM,
  type Padding,
} from "./kv-batch.ts";
export { DecoderSession, type PaddedKv, type PaddedRun } from "./decoder-session.ts";
export { BATCH_LAYOUTS, type BatchLayout } from "./batch-layout.ts";
export { DTYPES, type Dtype } from "./dtypes.ts";
export type { GraphInfo } from "./model.ts";
export type { GraphSignature } from "./graph-signature.ts";
export { ModelFolderError } from "./model-files.ts";
export { selfTest, type SelfTestResult } from "./self-test.ts";
export { ChoiceTrie } from "./choice-trie.ts";
export { RequestState } from "./request-state.ts";
export { generate, planPrefillChunks, MAX_PREFILL_LOGITS } from "./generate.ts";
export { seededRandom, argmax, sampleToken } from "./sampler.ts";
export type {
  ChatMessage,
  SamplingOptions,
  GenerateRequest,
  GenerateResult,
  ModelConfig,
  ExecutionOptions,
} from "./types.ts";
