// One folder registered under two names is one model: the runtime loads one session for it, and
// the plan and the Processor give both names the same workers. Before, each name was a model of
// its own to the planner: a worker per name, each a model thread and session of its own (three
// names on one folder ran three sessions side by side on the same cores, and split the rows one
// batch would have held). On the shipped model, in this file's own process.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import { listModelThreads } from "../../src/processor/llm/thread/model-threads.ts";
import { SAMPLE_REVIEWS, SENTIMENT_CHOICES, SENTIMENT_PROMPT } from "../helpers/trained-prompts.ts";

halo.models.register("first-name", shippedModelDir());
halo.models.register("second-name", shippedModelDir());

const rows = Array.from({ length: 8 }, (_, id) => ({
  id,
  review: `${SAMPLE_REVIEWS[id % SAMPLE_REVIEWS.length]} Order ${id}.`,
}));
const options = { reuse: false, calibrate: false, progress: false } as const;

/** Two agents, one per name; the second reads the first's label. */
function twoNames(first: string, second: string) {
  return halo
    .lazy(rows)
    .agent({
      prompt: SENTIMENT_PROMPT,
      choices: SENTIMENT_CHOICES,
      output: "sentiment",
      model: first,
    })
    .agent({
      prompt: `${SENTIMENT_PROMPT}\nLabel: {{sentiment}}`,
      output: "check",
      maxTokens: 6,
      model: second,
    });
}

test("two names of one folder: one worker, one session, the same table as one name", async () => {
  const { rows: got } = await twoNames("first-name", "second-name").collectRows(options);
  const run = halo.lastRun!;
  const lanes = new Set(
    run.tasks.filter((t) => t.kind === "prefill" || t.kind === "decode").map((t) => t.lane),
  );
  assert.equal([...lanes], ["llm:0"], "both names' forwards on one lane");
  assert.is(listModelThreads().length, 1, "one model thread, one session");
  assert.match(
    twoNames("first-name", "second-name").explain({ optimized: true }),
    /place-work: 1 worker\(s\) \[llm:0=first-name\]; 0 model switch/,
  );
  const { rows: oneName } = await twoNames("first-name", "first-name").collectRows(options);
  assert.equal(got, oneName);
});

test("two workers of that model: lanes map to its two sessions, whichever name runs there", async () => {
  halo.processor.configure({ llm: { workersPerModel: 2 } });
  try {
    const text = twoNames("first-name", "second-name").explain({ optimized: true });
    assert.match(text, /place-work: 2 worker\(s\) \[llm:0=first-name, llm:1=first-name\]/);
    await twoNames("first-name", "second-name").collectRows(options);
    assert.ok(listModelThreads().length <= 2, `${listModelThreads().length} threads`);
  } finally {
    halo.processor.reset();
  }
});

test.run();
