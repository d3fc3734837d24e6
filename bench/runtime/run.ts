// `halo bench runtime ...` (bench/main.ts hands its arguments here; also runnable directly:
// node --import tsx bench/runtime/run.ts ARGS):
//   runtime [MODEL_DIR] [--dtype D] [--json]        one folder: prefill/decode by length and
//                                                   batch, cached prefix, transformers.js beside
//   runtime --realistic [NAME,...] [--dtypes fp32,int8,q4] [--quick] [--json FILE]
//           [--install-transformers] [--no-transformers] [--no-invariance]
//                                                   realistic shapes (realistic-bench.ts)
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DTYPES, isDtype, type Dtype } from "../../src/runtime/dtypes.ts";
import { formatRealisticBench, runRealisticBench } from "./realistic-bench.ts";
import { REALISTIC_SHAPES, type RealisticShape } from "../systems/realistic-models.ts";
import { formatRuntimeBench, runRuntimeBench } from "./runtime-bench.ts";
import { installTransformers } from "./transformers-js.ts";

export const RUNTIME_USAGE =
  "usage: halo bench runtime [MODEL_DIR] [--dtype D] [--json]\n" +
  "       halo bench runtime --realistic [smollm2-135m,qwen2.5-0.5b] [--dtypes fp32,int8,q4] [--quick]\n" +
  "                          [--json FILE] [--install-transformers] [--no-transformers] [--no-invariance]";

export async function runtimeCommand(args: string[], out = console.log): Promise<number> {
  const realistic = args.includes("--realistic");
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      realistic: { type: "boolean" },
      dtype: { type: "string" },
      dtypes: { type: "string" },
      quick: { type: "boolean" },
      // one folder: JSON on stdout; realistic: JSON into a file
      json: { type: realistic ? "string" : "boolean" },
      "install-transformers": { type: "boolean" },
      "no-transformers": { type: "boolean" },
      "no-invariance": { type: "boolean" },
    },
  });
  if (!values.realistic) {
    if (values.dtype !== undefined && !isDtype(values.dtype))
      throw new Error(`--dtype must be one of ${DTYPES.join(", ")}\n${RUNTIME_USAGE}`);
    const dir = positionals[0];
    const result = await runRuntimeBench({
      ...(dir ? { modelDir: dir } : {}),
      ...(values.dtype ? { dtype: values.dtype as Dtype } : {}),
    });
    out(values.json ? JSON.stringify(result, null, 2) : formatRuntimeBench(result));
    return 0;
  }
  const models = (positionals[0]?.split(",") ?? [...REALISTIC_SHAPES]) as RealisticShape[];
  for (const m of models)
    if (!(REALISTIC_SHAPES as readonly string[]).includes(m))
      throw new Error(`unknown realistic model ${m}: choose from ${REALISTIC_SHAPES.join(", ")}`);
  const dtypes = (values.dtypes?.split(",") ?? ["fp32", "int8", "q4"]) as Dtype[];
  for (const d of dtypes)
    if (!isDtype(d)) throw new Error(`--dtypes: ${d} is not one of ${DTYPES.join(", ")}`);
  if (values["install-transformers"]) installTransformers();
  const result = await runRealisticBench({
    models,
    dtypes,
    quick: values.quick,
    ...(values["no-transformers"] ? { transformersDir: false as const } : {}),
    invariance: !values["no-invariance"],
  });
  out(formatRealisticBench(result));
  if (typeof values.json === "string") writeFileSync(values.json, JSON.stringify(result, null, 2));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`)
  process.exitCode = await runtimeCommand(process.argv.slice(2));
