// `halo bench schema`: what constrained decoding costs per decode step at batch 32. The runtime's
// own token chooser (RequestState.pick + accept, the code every run uses) with and without a
// schema, over the shipped model's 512-token vocabulary and a 32k byte-level BPE vocabulary
// trained here (train-bpe.ts, cached, git-ignored). Logits are random (seeded): a stand-in for
// any model, made outside the timed part. "cold" is the first batch over a fresh tokenizer
// (masks computed as states are first reached), "warm" a second batch (masks memoized). The
// shipped model's own decode step at batch 32 is measured beside it for scale.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateDataset } from "../data/index.ts";
import { RequestState } from "../../src/runtime/request-state.ts";
import { seededRandom } from "../../src/runtime/sampler.ts";
import { TextTokenizer } from "../../src/runtime/tokenizer.ts";
import { loadModel, shippedModelDir, type PaddedKv } from "../../src/runtime/index.ts";
import { trainByteLevelBpe } from "./train-bpe.ts";

const BATCH = 32;
const MAX_TOKENS = 96;
const CACHE = join(dirname(fileURLToPath(import.meta.url)), ".cache");

const SCHEMAS: Record<string, Record<string, unknown>> = {
  extraction: {
    type: "object",
    properties: {
      name: { type: "string", maxLength: 24 },
      age: { type: "integer", minimum: 0, maximum: 120 },
      score: { type: "number", minimum: 0, maximum: 1 },
      member: { type: "boolean" },
      tags: { type: "array", items: { enum: ["new", "vip", "churn"] }, maxItems: 3 },
      city: { type: ["string", "null"] },
    },
    required: ["name", "age", "score", "member", "tags"],
  },
  "free text": {
    type: "object",
    properties: { title: { type: "string" }, summary: { type: "string" } },
    required: ["title", "summary"],
  },
};

/** Corpus for the 32k tokenizer: the bench datasets' text and rows as JSON, plus Python sources. */
function* corpus(): Iterable<string> {
  for (const name of ["imdb", "articles"] as const)
    for (const table of generateDataset(name, { seed: 42 }).tables)
      for (const chunk of table.chunks()) {
        const n = chunk[0]?.length ?? 0;
        for (let r = 0; r < n; r++) {
          const row = Object.fromEntries(table.columns.map((c, i) => [c.name, chunk[i]![r]]));
          yield JSON.stringify(row);
          for (const v of Object.values(row)) if (typeof v === "string") yield v;
        }
      }
  // Source code adds identifiers and punctuation runs; whatever Python this machine has.
  let bytes = 0;
  const walk = function* (dir: string): Iterable<string> {
    for (const entry of readdirSync(dir).sort()) {
      if (bytes > 12e6) return;
      const path = join(dir, entry);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory() && !entry.startsWith("test")) yield* walk(path);
      else if (st?.isFile() && entry.endsWith(".py")) {
        const text = readFileSync(path, "utf8");
        bytes += text.length;
        yield text;
      }
    }
  };
  const python = ["/usr/lib/python3.11", "/usr/lib/python3.12", "/usr/lib/python3.13"].find(
    existsSync,
  );
  if (python) yield* walk(python);
}

/** The 32k tokenizer folder, trained on first use (a minute or two) and cached. */
export function benchTokenizerDir(size = 32768): string {
  const dir = join(CACHE, `bpe-${size}`);
  if (!existsSync(join(dir, "tokenizer.json"))) {
    const t0 = performance.now();
    const json = trainByteLevelBpe(corpus(), size);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
    process.stdout.write(
      `trained a ${size}-token BPE in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${dir}\n`,
    );
  }
  return dir;
}

interface Pass {
  msPerStep: number;
  steps: number;
}

/** Decodes BATCH requests in lockstep on random logits; times only pick + accept. */
function decodeBatch(
  tokenizer: TextTokenizer,
  schema: Record<string, unknown> | undefined,
  seed: number,
): Pass {
  const eos = new Set([tokenizer.vocabSize - 1]);
  const sampling = { maxTokens: MAX_TOKENS, ...(schema && { schema }) };
  const states = Array.from(
    { length: BATCH },
    () => new RequestState({ promptTokens: [1], sampling }, tokenizer, eos),
  );
  const random = seededRandom(seed);
  const logits = Array.from({ length: BATCH }, () => new Float32Array(tokenizer.vocabSize));
  let ms = 0;
  let steps = 0;
  while (states.some((s) => !s.done)) {
    for (const l of logits) for (let i = 0; i < l.length; i++) l[i] = random();
    const t0 = performance.now();
    states.forEach((s, row) => {
      if (!s.done) s.accept(s.pick(logits[row]!));
    });
    ms += performance.now() - t0;
    steps++;
  }
  return { msPerStep: ms / steps, steps };
}

/** The shipped model's decode step at batch 32 over a 64-token past. */
async function modelStepMs(): Promise<number> {
  const model = await loadModel(shippedModelDir());
  const session = model.session;
  const rows = Array.from({ length: BATCH }, (_, i) =>
    Array.from({ length: 64 }, (_, j) => (i * 7 + j) % 500),
  );
  const { present } = await session.run(rows, session.emptyPast(BATCH));
  const times: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    let state: PaddedKv = present;
    const t0 = performance.now();
    for (let s = 0; s < 16; s++)
      state = (
        await session.run(
          rows.map((r) => [r[s]!]),
          state,
        )
      ).present;
    times.push((performance.now() - t0) / 16);
  }
  await model.dispose();
  return times.sort((a, b) => a - b)[1]!;
}

export async function runSchemaBench(): Promise<string[]> {
  const lines: string[] = [];
  const tokenizers: [string, string][] = [
    ["shipped (512)", shippedModelDir()],
    ["bpe 32k", benchTokenizerDir()],
  ];
  lines.push(
    `token choice per decode step, batch ${BATCH}, maxTokens ${MAX_TOKENS}, random logits (median of 3 seeds)`,
  );
  lines.push(
    "vocabulary      schema       plain ms  cold ms  warm ms  warm overhead  steps  masks  DFA states",
  );
  for (const [label, dir] of tokenizers) {
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const runs = [1, 2, 3].map((seed) => {
        const plain = decodeBatch(new TextTokenizer(dir), undefined, seed);
        const fresh = new TextTokenizer(dir); // a fresh vocabulary: no memoized masks
        const cold = decodeBatch(fresh, schema, seed);
        const warm = decodeBatch(fresh, schema, seed + 100);
        return { plain, cold, warm };
      });
      const med = (f: (r: (typeof runs)[number]) => number) =>
        runs.map(f).sort((a, b) => a - b)[1]!;
      const probe = new TextTokenizer(dir);
      decodeBatch(probe, schema, 1);
      const { guideFor } = await import("../../src/runtime/json-schema/token-guide.ts");
      const guide = guideFor(schema, probe.vocabulary());
      const plain = med((r) => r.plain.msPerStep);
      const warm = med((r) => r.warm.msPerStep);
      lines.push(
        [
          label.padEnd(15),
          name.padEnd(12),
          plain.toFixed(3).padStart(8),
          med((r) => r.cold.msPerStep)
            .toFixed(3)
            .padStart(8),
          warm.toFixed(3).padStart(8),
          `${(warm - plain).toFixed(3)} ms`.padStart(14),
          String(med((r) => r.warm.steps)).padStart(6),
          String(guide.stats.computed).padStart(6),
          String(guide.dfa.numStates).padStart(11),
        ].join(" "),
      );
    }
  }
  const step = await modelStepMs();
  lines.push(
    `shipped model's own decode step at batch ${BATCH}, past 64: ${step.toFixed(2)} ms (median of 3)`,
  );
  return lines;
}
