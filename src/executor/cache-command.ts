// `halo cache info [--json]` and `halo cache clear [--kind llm|http]`: the disk result store
// (disk-result-store.ts) seen from a shell: where it is, how full, by kind, and how to empty it.
// Clearing is safe while kernels run: their next write makes the folders again.
import { parseArgs } from "node:util";
import {
  DISK_KINDS,
  diskResultStore,
  resultCacheSettings,
  type DiskKind,
} from "./disk-result-store.ts";

const USAGE = `usage: halo cache info [--json]
       halo cache clear [--kind llm|http]

The result cache keeps finished LLM calls and deterministic HTTP requests on disk, so a rerun
after a restart or a crash makes only the calls that are missing. Its folder is
$HALO_CACHE_DIR/results (default ~/.cache/halo/results); HALO_RESULT_CACHE=off turns it off,
HALO_RESULT_CACHE_MAX_MB sets its size limit (default 512).
`;

export async function run(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { json: { type: "boolean" }, kind: { type: "string" } },
    }));
  } catch (err) {
    process.stderr.write(`halo cache: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const settings = resultCacheSettings();
  const store = diskResultStore(settings);
  if (verb === "info") {
    const info = store.info();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...info, mode: settings.mode }, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `folder   ${info.dir}`,
      `mode     ${settings.mode} (HALO_RESULT_CACHE)`,
      `limit    ${mib(info.maxBytes)} (HALO_RESULT_CACHE_MAX_MB)`,
      `entries  ${info.entries} (${mib(info.bytes)})`,
      ...DISK_KINDS.map(
        (k) => `  ${k.padEnd(6)} ${info.byKind[k].entries} (${mib(info.byKind[k].bytes)})`,
      ),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  }
  if (verb === "clear") {
    const kind = values.kind;
    if (kind !== undefined && !DISK_KINDS.includes(kind as DiskKind)) {
      process.stderr.write(`halo cache clear: --kind must be ${DISK_KINDS.join(" or ")}\n`);
      return 2;
    }
    const removed = store.clear(kind as DiskKind | undefined);
    process.stdout.write(
      `removed ${removed} entries${kind ? ` of kind ${kind}` : ""} from ${store.dir}\n`,
    );
    return 0;
  }
  process.stderr.write(
    `${verb === undefined ? "" : `halo cache: unknown subcommand '${verb}'\n\n`}${USAGE}`,
  );
  return 2;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}
