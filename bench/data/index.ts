// The benchmark datasets by name, so the harness, the tool server (in its own process) and the
// tests build the same data from (name, seed, scale).
import { generateArticles } from "./articles.ts";
import { generateImdb } from "./imdb.ts";
import { generateTpch } from "./tpch.ts";
import type { Dataset } from "./table.ts";

export type DatasetName = "imdb" | "articles" | "tpch";
export const DATASET_NAMES: DatasetName[] = ["imdb", "articles", "tpch"];

export interface DatasetOptions {
  seed?: number;
  /** Dataset-specific: imdb 1 = 5,000 titles, articles 1 = 3,000 articles, tpch = scale factor. */
  scale?: number;
}

export function generateDataset(name: DatasetName, options: DatasetOptions = {}): Dataset {
  switch (name) {
    case "imdb":
      return generateImdb(options);
    case "articles":
      return generateArticles(options);
    case "tpch":
      return generateTpch(options);
    default:
      throw new Error(
        `unknown dataset '${String(name)}': choose one of ${DATASET_NAMES.join(", ")}`,
      );
  }
}
