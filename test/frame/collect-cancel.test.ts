// Interrupting collect({ onError: "null" }) on the shipped model: the run resolves with the whole
// table, finished rows equal an uninterrupted run's, unfinished ones say so in `_errors`, and
// both executors agree. With onError "raise" it still throws; the next collect is complete.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LazyFrame } from "../../src/frame/lazy-frame.ts";
import { models } from "../../src/frame/models.ts";
import { session } from "../../src/frame/session.ts";
import { INTERRUPTED_MESSAGE } from "../../src/executor/row-ops.ts";
import { setSignalProvider } from "../../src/cancel.ts";
import { shippedModelDir } from "../../src/runtime/index.ts";
import type { ProgressEvent, SinkResult } from "../../src/executor/types.ts";
import type { Row } from "../../src/plan/types.ts";
import { SENTIMENT_CHOICES, SENTIMENT_PROMPT, SUMMARY_PROMPT } from "../helpers/trained-prompts.ts";

models.register("tiny", process.env.HALO_MODEL_DIR ?? shippedModelDir());

const reviews = [
  "Great kettle, works perfectly. I love it.",
  "Awful laptop, the material fell apart. Worst laptop I have ever bought.",
  "The blender is okay. It does the job.",
  "Terrible shoes, they broke after a week.",
  "Excellent book, I read it twice.",
  "The lamp arrived broken and support never answered.",
  "Nice toy, my kids play with it every day.",
  "The sound is fine, nothing special. The sound is as described.",
];
const rows = reviews.map((review, id) => ({ id, review }));

const frame = LazyFrame.from(rows)
  .agent({
    prompt: SENTIMENT_PROMPT,
    output: "sentiment",
    choices: SENTIMENT_CHOICES,
    model: "tiny",
  })
  .agent({
    prompt: SUMMARY_PROMPT,
    output: "summary",
    maxTokens: 12,
    model: "tiny",
  });

let want: SinkResult;
test.before(async () => {
  want = await frame.collectRows({ executor: "row-by-row", onError: "null", reuse: false });
});

/** Aborts `controller` once `count` rows have finished the last agent. */
function abortAfter(controller: AbortController, count: number) {
  return (event: ProgressEvent) => {
    if (event.label.includes("summary") && event.done >= count && !controller.signal.aborted)
      controller.abort(new Error("interrupted"));
  };
}

function checkPartial(got: SinkResult, label: string): { finished: number; unfinished: number } {
  assert.equal(got.columns, want.columns, `${label}: columns`);
  assert.is(got.rows.length, want.rows.length, `${label}: every row is in the table`);
  let finished = 0;
  let unfinished = 0;
  got.rows.forEach((row: Row, i) => {
    if (row._errors === null) {
      finished++;
      assert.equal(row, want.rows[i], `${label}: finished row ${i} equals the full run's`);
    } else {
      unfinished++;
      assert.match(String(row._errors), INTERRUPTED_MESSAGE, `${label}: row ${i}`);
      assert.is(row.summary, null, `${label}: row ${i} has no summary`);
      assert.is(row.review, want.rows[i]!.review);
    }
  });
  const report = session.lastRun!;
  assert.ok(report.cancelled, `${label}: lastRun.cancelled`);
  assert.is(report.interruptedRows, unfinished, `${label}: lastRun.interruptedRows`);
  assert.match(report.summary(), /cancelled: \d+ rows interrupted/);
  return { finished, unfinished };
}

for (const executor of ["row-by-row", "processor"] as const) {
  test(`${executor}: an interrupt with onError "null" keeps the finished rows`, async () => {
    const controller = new AbortController();
    const t0 = performance.now();
    const got = await frame.collectRows({
      executor,
      onError: "null",
      reuse: false,
      signal: controller.signal,
      onProgress: abortAfter(controller, 2),
    });
    const ms = performance.now() - t0;
    const { finished, unfinished } = checkPartial(got, executor);
    console.log(
      `measure: ${executor}: interrupted after 2 summaries: ${finished} rows kept, ${unfinished} interrupted, ${ms.toFixed(0)} ms`,
    );
    assert.ok(finished >= 2, `${executor}: at least the 2 rows finished before the interrupt`);
    assert.ok(unfinished >= 1, `${executor}: rows after the interrupt are marked`);
    // The worker freed the cancelled sequences' KV: the next collect runs whole and correct.
    const again = await frame.collectRows({ executor, onError: "null", reuse: false });
    assert.equal(again, want, `${executor}: the next collect`);
    assert.not.ok(session.lastRun!.cancelled);
  });
}

test("the kernel's interrupt (src/cancel.ts) does the same; onError raise still throws", async () => {
  const controller = new AbortController();
  setSignalProvider(() => controller.signal);
  try {
    const got = await frame.collectRows({
      executor: "processor",
      onError: "null",
      reuse: false,
      onProgress: abortAfter(controller, 1),
    });
    checkPartial(got, "kernel interrupt");
    const raising = new AbortController();
    setSignalProvider(() => raising.signal);
    const error = await frame
      .collectRows({ executor: "processor", reuse: false, onProgress: abortAfter(raising, 1) })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    assert.ok(error, "onError raise rejects");
    assert.match(error!.message, /interrupted/);
    assert.ok(session.lastRun!.cancelled);
    assert.match(session.lastRun!.summary(), /cancelled: the run stopped/);
  } finally {
    setSignalProvider(undefined);
  }
});

test.run();
