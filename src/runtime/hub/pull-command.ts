// `halo pull org/name [--dtype D] [--revision R]`: fills the huggingface_hub cache ahead of time
// (on a machine with network, before going offline or before a notebook needs the model) and
// prints where the model folder is. Progress goes to stderr; stdout gets the summary lines.
import { parseArgs } from "node:util";
import { DTYPES, isDtype } from "../dtypes.ts";
import { startDownloadProgress } from "../../display/download-progress.ts";
import { formatBytes } from "../../display/format.ts";
import { DtypeMissingError } from "../choose-decoder.ts";
import { HubError } from "./hub-error.ts";
import { isHubId } from "./hub-id.ts";
import { hubSettings } from "./hub-settings.ts";
import { resolveHubModel } from "./hub-snapshot.ts";

export const USAGE = `usage: halo pull ORG/NAME [--dtype ${DTYPES.join("|")}] [--revision R]

Downloads the files one dtype of a model needs (config, tokenizer, chat template, the decoder
graph and its external data) into the Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub, else
~/.cache/huggingface/hub) and prints the folder. Reads HF_ENDPOINT and HF_TOKEN like the Python
tools; a model in the cache then loads with HF_HUB_OFFLINE=1.
`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dtype: { type: "string" },
        revision: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    process.stderr.write(`halo pull: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [repo, ...extra] = positionals;
  if (!repo || extra.length > 0 || !isHubId(repo)) {
    process.stderr.write(
      `halo pull: expected one hub id such as onnx-community/Qwen2.5-0.5B-Instruct${repo ? `, got ${[repo, ...extra].join(" ")}` : ""}\n\n${USAGE}`,
    );
    return 2;
  }
  if (values.dtype !== undefined && !isDtype(values.dtype)) {
    process.stderr.write(
      `halo pull: --dtype must be one of ${DTYPES.join(", ")}, got '${values.dtype}'\n`,
    );
    return 2;
  }
  const settings = hubSettings();
  const progress = startDownloadProgress(repo);
  try {
    const snap = await resolveHubModel(
      {
        repo,
        ...(values.dtype ? { dtype: values.dtype } : {}),
        ...(values.revision ? { revision: values.revision } : {}),
      },
      { settings, onProgress: (p) => progress.update(p) },
    );
    progress.finish("done");
    const source =
      snap.downloadedBytes === 0
        ? "already in the cache"
        : `${formatBytes(snap.downloadedBytes)} downloaded from ${settings.endpoint}`;
    process.stdout.write(
      [
        `${snap.repo}@${snap.revision}: commit ${snap.commit}, ${snap.decoder.dtype ?? "as built"} (${snap.decoder.onnxFile}); ${source}`,
        `model folder: ${snap.dir}`,
        "",
      ].join("\n"),
    );
    return 0;
  } catch (error) {
    progress.finish("failed");
    if (error instanceof HubError || error instanceof DtypeMissingError) {
      process.stderr.write(`halo pull: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
