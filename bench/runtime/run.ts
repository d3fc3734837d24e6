// node --import tsx bench/runtime/run.ts [modelDir] [--json]
import { formatRuntimeBench, runRuntimeBench } from "./runtime-bench.ts";

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith("--"));
const result = await runRuntimeBench(dir ? { modelDir: dir } : {});
console.log(args.includes("--json") ? JSON.stringify(result, null, 2) : formatRuntimeBench(result));
