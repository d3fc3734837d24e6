// `halo serve`: parses options, starts the server, prints where it listens (one stdout line that
// scripts and tests wait for: `halo: serving on http://HOST:PORT`), and on SIGTERM or SIGINT stops
// gracefully (new requests get 503, queries in flight finish or fail within --drain-ms).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { closeModelThreads } from "../processor/llm/thread/model-threads.ts";
import type { Processor } from "../processor/processor.ts";
import {
  modelSpec,
  resolveModelSourceShown,
  type ResolvedModelSource,
} from "../runtime/model-source.ts";
import { startServer, type CompletionsService } from "./server.ts";

const USAGE = `usage: halo serve [options]

  --host H          address to listen on (default 127.0.0.1; anything else needs a token)
  --port P          port (default 8808; 0 picks a free one)
  --token T         bearer token for queries, completions and metrics (default: $HALO_TOKEN)
  --admin-token T   bearer token for registering, listing and deleting workflows over HTTP
                    (default: $HALO_ADMIN_TOKEN; without it those routes are off)
  --workflow FILE   register a workflow YAML at start (repeatable)
  --allow-path P    a file or folder SQL of served workflows may read and write (repeatable;
                    default: none, SQL reaches no files)
  --postgres N=URL  a PostgreSQL database that SQL nodes name with db: N (repeatable)
  --postgres-role N=ROLE   the role queries on database N run as (SET ROLE before each)
  --model SRC       model the OpenAI API answers for: a folder or a hub id org/name,
                    downloaded at start into the Hugging Face cache (default: the shipped model)
  --dtype D         which graph of --model: fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4
  --revision R      hub ids: branch, tag or commit (default main)
  --max-queue N     queries waiting per workflow, and OpenAI answers running, before 429
                    (default 1024)
  --timeout-ms N    per query, from arrival (default 120000)
  --batch-ms N      latency a mini-batch should stay under (default 2000)
  --max-batch N     most queries per mini-batch (default 256)
  --max-body N      request body limit in bytes (default 1048576)
  --drain-ms N      on SIGTERM, how long queries in flight may finish (default 30000)
`;

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a whole number, got '${value}'`);
  return n;
}

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        token: { type: "string" },
        "admin-token": { type: "string" },
        workflow: { type: "string", multiple: true },
        "allow-path": { type: "string", multiple: true },
        postgres: { type: "string", multiple: true },
        "postgres-role": { type: "string", multiple: true },
        model: { type: "string" },
        dtype: { type: "string" },
        revision: { type: "string" },
        "max-queue": { type: "string" },
        "timeout-ms": { type: "string" },
        "batch-ms": { type: "string" },
        "max-batch": { type: "string" },
        "max-body": { type: "string" },
        "drain-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`halo serve: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let server;
  let drainMs: number;
  try {
    drainMs = positiveInt("drain-ms", values["drain-ms"]) ?? 30_000;
    // Resolved (downloaded) before listening: a first request must not wait for a download.
    const model = values.model
      ? await resolveModelSourceShown(modelSpec(values.model, values.dtype, values.revision))
      : undefined;
    server = await startServer({
      host: values.host,
      port: positiveInt("port", values.port),
      token: values.token ?? (process.env.HALO_TOKEN || undefined),
      adminToken: values["admin-token"] ?? (process.env.HALO_ADMIN_TOKEN || undefined),
      allowPaths: values["allow-path"],
      postgres: postgresOptions(values.postgres ?? [], values["postgres-role"] ?? []),
      maxQueue: positiveInt("max-queue", values["max-queue"]),
      timeoutMs: positiveInt("timeout-ms", values["timeout-ms"]),
      batchTargetMs: positiveInt("batch-ms", values["batch-ms"]),
      maxBatch: positiveInt("max-batch", values["max-batch"]),
      maxBodyBytes: positiveInt("max-body", values["max-body"]),
      completions: (processor) =>
        loadCompletions(model, processor, positiveInt("max-queue", values["max-queue"])),
    });
    for (const file of values.workflow ?? []) {
      const session = server.register(readFileSync(file, "utf8"));
      process.stderr.write(`halo serve: workflow '${session.name}' from ${file}\n`);
    }
  } catch (err) {
    process.stderr.write(`halo serve: ${(err as Error).message}\n`);
    await server?.close(0);
    return 1;
  }
  process.stdout.write(`halo: serving on ${server.url}\n`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`halo serve: ${signal}: finishing queries in flight, then exiting\n`);
      server
        .close(drainMs)
        // Model threads before exit: exiting while one runs a forward aborts the process.
        .then(() => closeModelThreads())
        .then(
          () => {
            // Exit even if a library keeps a handle open (an unref'd timer only fires then).
            setTimeout(() => process.exit(0), 2_000).unref();
            resolve(0);
          },
          (err: unknown) => {
            process.stderr.write(`halo serve: shutdown: ${String(err)}\n`);
            resolve(1);
          },
        );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

/** `--postgres NAME=URL` and `--postgres-role NAME=ROLE` into ServeOptions.postgres. */
function postgresOptions(
  urls: string[],
  roles: string[],
): Record<string, { url: string; role?: string }> {
  const pair = (flag: string, text: string): [string, string] => {
    const at = text.indexOf("=");
    const name = text.slice(0, at);
    if (at < 1 || !/^[A-Za-z_][\w.-]*$/.test(name) || at === text.length - 1)
      throw new Error(`--${flag} expects NAME=VALUE with NAME like 'sales', got '${text}'`);
    return [name, text.slice(at + 1)];
  };
  const out: Record<string, { url: string; role?: string }> = {};
  for (const text of urls) {
    const [name, url] = pair("postgres", text);
    if (Object.hasOwn(out, name)) throw new Error(`--postgres ${name} is given twice`);
    out[name] = { url };
  }
  for (const text of roles) {
    const [name, role] = pair("postgres-role", text);
    if (!Object.hasOwn(out, name))
      throw new Error(`--postgres-role ${name}: no --postgres ${name}=URL to apply it to`);
    out[name]!.role = role;
  }
  return out;
}

async function loadCompletions(
  model: ResolvedModelSource | undefined,
  processor: Processor,
  maxAnswers: number | undefined,
): Promise<CompletionsService> {
  // Loaded on the first OpenAI request: a server used only for workflows never loads it.
  const { createCompletionsService } = await import("./completions.ts");
  return createCompletionsService({
    processor,
    ...(model ? { model } : {}),
    ...(maxAnswers !== undefined ? { maxAnswers } : {}),
  });
}
