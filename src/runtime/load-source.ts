// Where a resolved model source (model-source.ts: a folder, its dtype and its graph) meets the
// loader: every caller that opens a model by source goes through here, so the dtype reaches the
// loader in one place. getModel takes the folder; its `dtype` option, which opens the graph
// chooseDecoder picked, is the loader's part of issue 17 (until it lands, onnx/model.onnx opens).
import { getModel, type LoadOptions } from "./load-model.ts";
import type { Model } from "./model.ts";
import type { ResolvedModelSource } from "./model-source.ts";

export function loadSourceModel(
  source: ResolvedModelSource,
  options: LoadOptions = {},
): Promise<Model> {
  const withDtype = { ...options, ...(source.dtype ? { dtype: source.dtype } : {}) } as LoadOptions;
  return getModel(source.dir, withDtype);
}
