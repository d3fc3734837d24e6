// halo.lastRun after a collect that reuses stored results (notebook 02's last cell): every node
// that ran, the Sink included, reports the rows it produced. The Processor once printed
// `Sink rows=0` there: its Sink passes its input stream through and never counted rows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as dfd from "danfojs-node";
import { halo } from "../../src/index.ts";
import { fakeModel } from "./fixtures/fake-model.ts";

const model = fakeModel("reuse-report");
halo.models.register("reuse-report", model);
const reviews = [
  { id: 1, review: "great kettle", stars: 5 },
  { id: 2, review: "broke in a day", stars: 1 },
  { id: 3, review: "fine", stars: 3 },
  { id: 4, review: "lid cracked", stars: 2 },
];

for (const executor of ["processor", "row-by-row"] as const) {
  test(`a reuse run reports the Sink's rows and marks reused nodes (${executor})`, async () => {
    halo.clearCache();
    model.calls = 0;
    const low = halo.lazy(new dfd.DataFrame(reviews)).filter(halo.col("stars").le(3)).agent({
      prompt: "Summarize: {{review}}",
      output: "summary",
      maxTokens: 16,
      model: "reuse-report",
    });
    await low.collectRows({ executor });
    assert.is(model.calls, 3);

    // A later cell extends the plan: the agent's stored rows stand in for it.
    const { rows } = await low.select(["id", "summary"]).collectRows({ executor });
    assert.is(model.calls, 3);
    const run = halo.lastRun!;
    assert.is(rows.length, 3);
    assert.equal(run.rowsOut, [3]);
    assert.ok(run.reusedNodeIds.length === 1, `reused: ${run.reusedNodeIds.join(", ")}`);
    const sink = run.nodes.find((n) => n.kind === "Sink");
    assert.ok(sink, "the trace lists the Sink");
    assert.is(sink.rows, 3);
    const text = run.summary();
    assert.match(text, /Sink frame 0: rows=3 /);
    assert.match(text, /LlmCall[^\n]*rows=3 calls=0[^\n]*\(reused\)/);
    assert.not.match(text, /rows=0/);
  });
}

test.run();
