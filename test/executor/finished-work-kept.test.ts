// Finished work is kept, per call, in both executors and every onError mode: a failure at row 45
// of 50, or an interrupt 2.5 s into a 3,000-row run, leaves the calls that finished in the
// session store, the error says how many, and the rerun makes only the missing calls.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import type { LlmModel } from "../../src/executor/types.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";

const EXECUTORS = ["row-by-row", "processor"] as const;

const model = fakeModel("kept");
halo.models.register("kept", model);
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, review: `r${i}.` }));
const summarize = (n: number, name = "kept") =>
  halo
    .lazy(rows(n))
    .agent({ name: "summarize", prompt: "Sum up: {{review}}", output: "summary", model: name });

test.before.each(() => {
  halo.clearCache();
  model.calls = 0;
  model.failOn = undefined;
});

for (const executor of EXECUTORS) {
  test(`${executor}: a failure at row 45 of 50 keeps the finished calls; the rerun makes 1 to 6`, async () => {
    model.failOn = (p) => p.includes("r44.");
    const error = await summarize(50)
      .collectRows({ executor })
      .then(
        () => new Error("row 45 did not fail"),
        (e: Error) => e,
      );
    assert.match(
      error.message,
      /^row 44 \(id: 45\) failed at node 'summarize' \(LlmCall #1, output column 'summary'\): fake model refuses/,
    );
    const kept = Number(
      /; (\d+) of 50 rows had finished this node and were kept: a rerun computes only the rest\n/.exec(
        error.message,
      )?.[1],
    );
    const firstCalls = model.calls;
    if (executor === "row-by-row") assert.is(kept, 44, "rows before the failure, in order");
    assert.ok(kept >= 44 && kept <= 49, `${kept} kept`);

    model.failOn = undefined;
    model.calls = 0;
    const again = await summarize(50).collectRows({ executor });
    console.log(
      `measure: ${executor}: failure at row 45 of 50 (${firstCalls} calls, ${kept} kept): the rerun made ${model.calls} LLM calls`,
    );
    assert.ok(model.calls >= 1 && model.calls <= 6, `rerun made ${model.calls} calls`);
    assert.is(model.calls, 50 - halo.lastRun!.callsFromStore.session);
    assert.is(again.rows.length, 50);
    assert.is(again.rows[44]!.summary, "echo:Sum up: r44.");
  });

  test(`${executor}: onError "null" keeps every good row's call; the rerun makes only the failed one`, async () => {
    model.failOn = (p) => p.includes("r44.");
    const first = await summarize(50).collectRows({ executor, onError: "null" });
    assert.match(String(first.rows[44]!._errors), /^summarize: fake model refuses/);
    assert.is(halo.lastRun!.callsKept, 49);
    model.failOn = undefined;
    model.calls = 0;
    const again = await summarize(50).collectRows({ executor, onError: "null" });
    assert.is(model.calls, 1);
    assert.equal(halo.lastRun!.callsFromStore, { session: 49, disk: 0 });
    assert.ok(again.rows.every((r) => r._errors === null));
    // And now the whole table is stored: the next collect reuses the node outright.
    await summarize(50).collectRows({ executor, onError: "null" });
    assert.is(model.calls, 1);
    assert.equal(halo.lastRun!.reusedNodeIds, [1]);
  });
}

test("processor: the calls running when a row fails may finish (kept); one that hangs does not hold the error", async () => {
  // Row 45 fails at once; every other row's call waits for the run's abort (it never answers).
  const hanging: LlmModel = {
    id: "hanging",
    encodeChat: model.encodeChat.bind(model),
    generate: (requests, options) =>
      requests.some((r) => String.fromCodePoint(...r.promptTokens).includes("r44."))
        ? Promise.reject(new Error("row 45 refuses"))
        : new Promise((_, reject) =>
            options?.signal?.addEventListener("abort", () => reject(new Error("aborted")), {
              once: true,
            }),
          ),
  };
  halo.models.register("hanging", hanging);
  const error = await summarize(50, "hanging")
    .collectRows({ executor: "processor" })
    .then(
      () => new Error("no failure"),
      (e: Error) => e,
    );
  assert.match(
    error.message,
    /^row 44 \(id: 45\) failed at node 'summarize'.*: row 45 refuses; no call had finished yet, so nothing was kept/,
  );
});

/** One generate call at a time, each taking `delayMs`: a model worker of known speed. */
function steadyModel(inner: LlmModel) {
  let queue = Promise.resolve();
  const m = {
    id: "steady",
    delayMs: 100,
    encodeChat: inner.encodeChat.bind(inner),
    generate(requests: Parameters<LlmModel["generate"]>[0], options?: { signal?: AbortSignal }) {
      const turn = queue.then(async () => {
        if (m.delayMs > 0) await new Promise((r) => setTimeout(r, m.delayMs));
        return inner.generate(requests, options);
      });
      queue = turn.then(
        () => {},
        () => {},
      );
      return turn;
    },
  };
  return m;
}

for (const executor of EXECUTORS)
  for (const onError of ["raise", "null"] as const)
    test(`${executor}, onError ${onError}: an interrupt 2.5 s into 3,000 rows keeps what finished`, async () => {
      const steady = steadyModel(model);
      halo.models.register("steady", steady);
      // 2.5 s after the first answer (planning 3,000 rows takes seconds on a loaded machine).
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const onProgress = () =>
        (timer ??= setTimeout(() => controller.abort(new Error("interrupted")), 2500));
      const outcome = await summarize(3000, "steady")
        .collectRows({ executor, onError, signal: controller.signal, onProgress })
        .then(
          (r) => r,
          (e: Error) => e,
        );
      clearTimeout(timer);
      if (onError === "raise") assert.instance(outcome, Error);
      else assert.not.instance(outcome, Error);
      const kept = halo.lastRun!.callsKept;
      assert.ok(halo.lastRun!.cancelled);
      assert.ok(kept > 0 && kept < 3000, `${kept} calls kept`);

      steady.delayMs = 0;
      model.calls = 0;
      const again = await summarize(3000, "steady").collectRows({ executor, onError });
      console.log(
        `measure: ${executor} (${onError}): interrupted at 2.5 s with ${kept} of 3000 calls kept; the rerun made ${model.calls}`,
      );
      assert.is(model.calls, 3000 - kept);
      assert.is(halo.lastRun!.callsFromStore.session, kept);
      assert.is(again.rows.length, 3000);
    });

test.run();
