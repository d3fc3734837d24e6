// The Processor (continuous batching, prefix cache, KV moved as each graph's own element type and
// counted at its size) runs every graph family and dtype with the answers Model.generate gives one
// row at a time.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LazyFrame } from "../../src/frame/lazy-frame.ts";
import { models } from "../../src/frame/models.ts";
import { session } from "../../src/frame/session.ts";
import { RuntimeEngine } from "../../src/processor/llm/runtime-engine.ts";
import { loadModel } from "../../src/runtime/index.ts";
import { FAMILIES, GRAPHS } from "../helpers/graph-fixtures.ts";

const WORDS = ["kettle", "lamp", "red", "quick", "river", "paper", "seven", "blue", "stone", "owl"];
// Rows share the instruction (a cached prefix) and differ in length after it.
const rows = Array.from({ length: 12 }, (_, i) => ({
  id: i,
  text: Array.from({ length: 1 + ((i * 7) % 9) }, (_, k) => WORDS[(i * 3 + k * 5) % 10]).join(" "),
}));
const PROMPT = "Summarize the following words in a few words of your own.\nWords: {{text}}";
const MAX_TOKENS = 6;

test("collect over several rows equals Model.generate one row at a time, for every family", async () => {
  for (const f of FAMILIES) {
    const model = await loadModel(join(GRAPHS, f.dir), f.options);
    // the cache budget, tiers and cost model count KV at the graph's element size
    const engine = new RuntimeEngine(model);
    assert.is(engine.kvBytesPerToken, 2 * 2 * 2 * 16 * (f.kvType === "float16" ? 2 : 4), f.name);
    const [first] = await engine.forward([{ past: undefined, tokens: [1, 2, 3] }]);
    assert.is(first!.kv.bytes, 3 * engine.kvBytesPerToken, f.name);
    const name = `graph-${f.dir}-${f.options.dtype ?? "default"}`;
    models.register(name, model);
    const got = await LazyFrame.from(rows)
      .agent({ prompt: PROMPT, output: "answer", maxTokens: MAX_TOKENS, model: name })
      .collectRows({ executor: "processor", reuse: false });
    const cached = session.lastRun!.tasks.reduce((n, t) => n + (t.cachedTokens ?? 0), 0);
    for (const row of rows) {
      const content = PROMPT.replace("{{text}}", row.text);
      const [alone] = await model.generate([
        {
          promptTokens: model.encodeChat([{ role: "user", content }]),
          sampling: { maxTokens: MAX_TOKENS },
        },
      ]);
      const answer = got.rows.find((r) => r.id === row.id)!.answer;
      assert.is(answer, alone!.text, `${f.name}: row ${row.id}`);
    }
    assert.ok(cached > 0, `${f.name}: the shared instruction came from the prefix cache`);
    const distinct = new Set(got.rows.map((r) => r.answer));
    assert.ok(
      distinct.size >= 3,
      `${f.name}: answers differ by row (${[...distinct].join(" | ")})`,
    );
    console.log(
      `measure: ${f.name} (${model.layout}): ${rows.length} rows equal, ${cached} prompt tokens from the cache`,
    );
    models.unregister(name);
    await model.dispose();
  }
});

test.run();
