// The table of `halo` subcommands. Each entry loads its implementation lazily; an implementation
// exports `run(args): Promise<number>` returning the process exit code.

export interface CommandModule {
  run(args: string[]): Promise<number>;
}

export interface Command {
  name: string;
  args: string;
  summary: string;
  help: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: Command[] = [
  {
    name: "install",
    args: "[--user | --prefix P | --sys-prefix] [--name N] [--display-name D]",
    summary: "install the Halo kernelspec so Jupyter offers 'Halo (TypeScript)'",
    help: "Writes a kernelspec (kernel.json and a logo) into Jupyter's data folder.",
    load: () => import("../../kernel/install.ts"),
  },
  {
    name: "kernel",
    args: "-f CONNECTION_FILE",
    summary: "run the kernel (what Jupyter launches)",
    help: "Starts a kernel that serves the Jupyter protocol on the ports of a connection file.",
    load: () => import("../../kernel/main.ts"),
  },
  {
    name: "run",
    args: "NOTEBOOK [--out FILE] [--report]",
    summary: "execute a notebook headlessly through the kernel",
    help: "Runs every code cell through a Halo kernel over ZeroMQ and writes the executed notebook\n(and with --report an HTML report). Exits non-zero when a cell fails.",
    load: () => import("../../kernel/run-notebook.ts"),
  },
  {
    name: "bench",
    args: "[--workloads a,b] [--queries N] [--quick] [--online] [--json FILE]",
    summary: "run the benchmarks side by side with the baselines",
    help: "Runs the benchmark workloads with Halo and its baselines and prints a table per workload.",
    load: () => import("../../bench/main.ts"),
  },
  {
    name: "serve",
    args: "[--host H] [--port P] [--token T] [--admin-token T] [--workflow FILE]... [--allow-path P]... [--model DIR|ORG/NAME [--dtype D] [--revision R]]",
    summary: "serve workflows and the OpenAI API over HTTP (online mode)",
    help: "Starts an HTTP server: serve workflows (YAML) to queries (JSON or NDJSON streamed), the\nOpenAI API for the local model and the workflows (/v1/models, /v1/chat/completions,\n/v1/completions), /metrics (Prometheus), /healthz. Queries and workflow\nregistration take separate tokens. Also: --postgres, --postgres-role, --max-queue, --timeout-ms,\n--batch-ms, --max-batch, --max-body, --drain-ms. docs/serving.md explains the API and threat model.",
    load: () => import("../serve/main.ts"),
  },
  {
    name: "pull",
    args: "ORG/NAME [--dtype fp32|fp16|q8|int8|uint8|q4|q4f16|bnb4] [--revision R]",
    summary: "download a model from the Hugging Face hub into its cache",
    help: "Fills the Hugging Face cache (HF_HUB_CACHE / HF_HOME) with the files one dtype of a model\nneeds and prints the folder; the model then loads offline (HF_HUB_OFFLINE=1). docs/models.md.",
    load: () => import("../runtime/hub/pull-command.ts"),
  },
  {
    name: "calibrate",
    args: "[--model DIR|ORG/NAME [--revision R]] [--out FILE] [--provider cpu|cuda|webgpu] [--threads N] [--url URL [--served-model NAME]]",
    summary: "measure this machine and write a cost-model profile",
    help: "Runs short microbenchmarks of the model and writes a cost profile used by the optimizer.\nWith --url, measures an OpenAI-compatible engine (vLLM, SGLang, halo serve) instead.",
    load: () => import("../cost/calibrate-command.ts"),
  },
  {
    name: "cache",
    args: "info [--json] | clear [--kind llm|http]",
    summary: "show or empty the disk cache of finished call results",
    help: "The result cache keeps finished LLM calls and deterministic HTTP requests on disk\n($HALO_CACHE_DIR/results), so a rerun after a restart or a crash makes only what is missing.\n'info' shows its folder, mode, limit and entries by kind; 'clear' removes them.",
    load: () => import("../executor/cache-command.ts"),
  },
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: halo <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Run 'halo <command> --help' for a command's options.",
    "",
  ].join("\n");
}
