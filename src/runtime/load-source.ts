// Where a resolved model source (model-source.ts: a folder, its dtype and its graph) meets the
// loader: every caller that opens a model by source goes through here. The loader picks the graph
// with the same chooseDecoder the source was resolved (and, for a hub id, downloaded) by, so the
// dtype alone names the same file; a genai build, which has no dtype, gets its one graph again.
import { getModel, type LoadOptions } from "./load-model.ts";
import type { Model } from "./model.ts";
import type { ResolvedModelSource } from "./model-source.ts";

export function loadSourceModel(
  source: ResolvedModelSource,
  options: LoadOptions = {},
): Promise<Model> {
  return getModel(source.dir, { ...options, ...(source.dtype ? { dtype: source.dtype } : {}) });
}
