// `halo bench runtime --realistic`: Halo's runtime on realistically shaped random-weight models
// (../systems/realistic-models.ts) in fp32, int8 and q4, beside transformers.js 4.x on the same files where it
// loads them. Every variant runs in a child process of its own (measure-halo.ts,
// measure-transformers.ts), so load time and peak RSS are that variant's alone, and the two
// systems never share a machine moment. These machines vary by 30-50% run to run: compare within
// one run, and read the load average printed with the figures.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Dtype } from "../../src/runtime/dtypes.ts";
import type { HaloGenerate, HaloThroughput, InvarianceRow } from "./measure-halo.ts";
import type { TransformersMeasure } from "./measure-transformers.ts";
import { buildRealisticModel, type RealisticShape } from "../systems/realistic-models.ts";
import { transformersFolder } from "./transformers-js.ts";
import { RESULT_PREFIX } from "./workload.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RealisticBenchOptions {
  models: RealisticShape[];
  dtypes: Dtype[];
  quick?: boolean;
  /** A folder holding node_modules/@huggingface/transformers; false skips the comparison. */
  transformersDir?: string | false;
  /** Run the batch-invariance measurement on 8-bit variants (default true). */
  invariance?: boolean;
}

export interface VariantResult {
  model: RealisticShape;
  dtype: Dtype;
  throughput: HaloThroughput | { error: string };
  /** Greedy generation as Halo runs it by default, and (8-bit dynamic graphs) as exported. */
  generate: HaloGenerate | { error: string };
  generateAsExported?: HaloGenerate | { error: string };
  transformers?: TransformersMeasure | { error: string } | { skipped: string };
  /** Greedy tokens equal to transformers.js's on every prompt: Halo's default graph, and (8-bit
   * dynamic graphs) the graph as exported, which is what transformers.js runs. */
  sameTokens?: { default: boolean; asExported?: boolean };
  invariance?: InvarianceRow[] | { error: string };
}

export interface RealisticBenchResult {
  /** Load average (1, 5, 15 min) when the run started and ended. */
  loadBefore: number[];
  loadAfter: number[];
  quick: boolean;
  variants: VariantResult[];
}

/** Runs a measuring child; resolves with its RESULT line, or rejects with its last stderr lines. */
function child<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "bench", "runtime", script), ...args],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (err += d));
    proc.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
      else
        reject(
          new Error(
            `${script} ${args.join(" ")} exited ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`,
          ),
        );
    });
  });
}

const errorOf = (e: unknown) => ({ error: (e as Error).message });

export async function runRealisticBench(
  options: RealisticBenchOptions,
  progress: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RealisticBenchResult> {
  const quick = options.quick ? ["--quick"] : [];
  const tfDir =
    options.transformersDir === false ? undefined : transformersFolder(options.transformersDir);
  const result: RealisticBenchResult = {
    loadBefore: loadavg(),
    loadAfter: [],
    quick: !!options.quick,
    variants: [],
  };
  for (const name of options.models) {
    let dir = "";
    for (const dtype of options.dtypes) dir = buildRealisticModel(name, dtype);
    for (const dtype of options.dtypes) {
      const halo = (mode: string) =>
        child<HaloGenerate>("measure-halo.ts", [dir, dtype, mode, ...quick]).catch(errorOf);
      progress(`${name} ${dtype}: Halo throughput`);
      const v: VariantResult = {
        model: name,
        dtype,
        throughput: await child<HaloThroughput>("measure-halo.ts", [
          dir,
          dtype,
          "throughput",
          ...quick,
        ]).catch(errorOf),
        generate: await halo("generate"),
      };
      const dynamic = dtype === "q8" || dtype === "int8" || dtype === "uint8";
      if (dynamic) v.generateAsExported = await halo("generate-as-exported");
      if (!tfDir)
        v.transformers = {
          skipped:
            "transformers.js is not installed: run with --install-transformers (474 MB from npm)",
        };
      else {
        progress(`${name} ${dtype}: transformers.js`);
        v.transformers = await child<TransformersMeasure>("measure-transformers.ts", [
          dir,
          dtype,
          tfDir,
          ...quick,
        ]).catch(errorOf);
      }
      if ("tokens" in v.transformers) {
        const theirs = v.transformers.tokens;
        const same = (g: VariantResult["generate"] | undefined) =>
          g && "tokens" in g
            ? g.tokens.every((t, i) => JSON.stringify(t) === JSON.stringify(theirs[i]))
            : undefined;
        v.sameTokens = { default: same(v.generate) ?? false };
        if (v.generateAsExported) v.sameTokens.asExported = same(v.generateAsExported);
      }
      if (options.invariance !== false && dynamic) {
        progress(`${name} ${dtype}: batch invariance`);
        v.invariance = await child<InvarianceRow[]>("measure-halo.ts", [
          dir,
          dtype,
          "invariance",
          ...quick,
        ]).catch(errorOf);
      }
      result.variants.push(v);
    }
  }
  result.loadAfter = loadavg();
  return result;
}

const f0 = (n: number) => Math.round(n).toLocaleString("en-US");
const f2 = (n: number) => n.toFixed(2);

/** The figures as markdown tables (docs/models.md quotes them). */
export function formatRealisticBench(r: RealisticBenchResult): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(" / ");
  const lines = [
    `load average (1/5/15 min): ${load(r.loadBefore)} at the start, ${load(r.loadAfter)} at the end${r.quick ? " (quick shapes)" : ""}`,
    "",
  ];
  const batches = [
    ...new Set(
      r.variants.flatMap((v) =>
        "prefill" in v.throughput ? v.throughput.prefill.map((p) => p.batch) : [],
      ),
    ),
  ];
  lines.push(
    `| model | dtype | layout | load s | peak RSS MiB | prefill tok/s (batch ${batches.join(" / ")}) | decode tok/s (batch ${batches.join(" / ")}) |`,
    "|---|---|---|---|---|---|---|",
  );
  for (const v of r.variants) {
    const h = v.throughput;
    if ("error" in h) {
      lines.push(`| ${v.model} | ${v.dtype} | failed: ${h.error} | | | | |`);
      continue;
    }
    lines.push(
      `| ${v.model} | ${v.dtype} | ${h.layout} | ${(h.loadMs / 1000).toFixed(1)} | ${f0(h.peakRssMb)} | ${h.prefill.map((p) => f0(p.tokensPerS)).join(" / ")} | ${h.decode.map((d) => f0(d.tokensPerS)).join(" / ")} |`,
    );
  }
  lines.push(
    "",
    "| model | dtype | Halo ms/token (batch 1 / 8) | transformers.js ms/token (batch 1 / 8) | Halo load s / peak RSS MiB | transformers.js load s / peak RSS MiB | same greedy tokens |",
    "|---|---|---|---|---|---|---|",
  );
  const yesNo = (b: boolean | undefined) => (b === undefined ? "" : b ? "yes" : "no");
  for (const v of r.variants) {
    const t = v.transformers;
    const tf =
      !t || "skipped" in t
        ? `skipped (${t?.skipped ?? "not run"})`
        : "error" in t
          ? `failed: ${t.error}`
          : `${f2(t.msPerToken.batch1)} / ${f2(t.msPerToken.batch8)}`;
    const tfLoad = t && "loadMs" in t ? `${(t.loadMs / 1000).toFixed(1)} / ${f0(t.peakRssMb)}` : "";
    const row = (label: string, g: VariantResult["generate"], same: boolean | undefined) =>
      lines.push(
        "error" in g
          ? `| ${v.model} | ${label} | failed: ${g.error} | ${tf} | | ${tfLoad} | |`
          : `| ${v.model} | ${label} | ${f2(g.msPerToken.batch1)} / ${f2(g.msPerToken.batch8)} | ${tf} | ${(g.loadMs / 1000).toFixed(1)} / ${f0(g.peakRssMb)} | ${tfLoad} | ${yesNo(same)} |`,
      );
    row(v.dtype, v.generate, v.sameTokens?.default);
    if (v.generateAsExported)
      row(`${v.dtype}, as exported`, v.generateAsExported, v.sameTokens?.asExported);
  }
  const inv = r.variants.filter((v) => v.invariance);
  if (inv.length) {
    lines.push(
      "",
      "| model | dtype | mode | layout | greedy answers changed by batching | ms/token, all prompts batched |",
      "|---|---|---|---|---|---|",
    );
    for (const v of inv) {
      if ("error" in v.invariance!) {
        lines.push(`| ${v.model} | ${v.dtype} | failed: ${v.invariance.error} | | | |`);
        continue;
      }
      for (const row of v.invariance!)
        lines.push(
          `| ${v.model} | ${v.dtype} | ${row.mode} | ${row.layout} | ${row.changed} of ${row.prompts} | ${f2(row.batchedMsPerToken)} |`,
        );
    }
  }
  return lines.join("\n");
}
