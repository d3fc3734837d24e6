// collect({ budget }) on the shipped model: an estimate over the budget is refused before any
// call (counted), naming the top nodes and what would help; a run that goes over a tokens
// budget mid-way stops, keeps every finished call, and a rerun makes only the missing ones
// (the Processor and the row-by-row executor alike); bad budgets name the field and the value.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultServices, collectPlans } from "../../src/frame/collect.ts";
import type { ExecutorServices } from "../../src/executor/types.ts";
import { halo } from "../../src/index.ts";
import { shippedModelPresent } from "./fixtures/shipped-model.ts";

const present = shippedModelPresent();
const rows = Array.from({ length: 8 }, (_, i) => ({
  id: i,
  text: `Parcel ${i} came ${i % 2 ? "late" : "early"}.`,
}));
/** A long document per row, known only once the function runs: the estimate cannot see it. */
const longDoc = (text: string) => `${text} ${"The courier left it at the door. ".repeat(30)}`;

function frame(tag: string) {
  return halo
    .lazy(rows)
    .tool(longDoc, { inputs: "text", output: "doc", key: `long-doc@${tag}` })
    .agent({ prompt: `Summarize (${tag}): {{doc}}`, output: "summary", maxTokens: 4 })
    .agent({
      prompt: `Is this summary upbeat (${tag})? {{summary}}`,
      output: "upbeat",
      choices: ["yes", "no"],
    });
}

/** Services counting LLM requests made through them. */
function counting(): { services: ExecutorServices; llm: () => number } {
  let llm = 0;
  const services: ExecutorServices = {
    ...defaultServices,
    async loadModel(key) {
      const model = await defaultServices.loadModel(key);
      return new Proxy(model, {
        get(target, prop, receiver) {
          if (prop === "generate")
            return (...args: Parameters<typeof model.generate>) => {
              llm += args[0].length;
              return model.generate(...args);
            };
          const value = Reflect.get(target, prop, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    },
  };
  return { services, llm: () => llm };
}

test("an estimate over the budget is refused before any call", async () => {
  if (!present) return;
  const lf = frame("refuse");
  const e = await lf.estimate({ reuse: false });
  const { services, llm } = counting();
  let fnCalls = 0;
  const counted = { ...services, fn: (r: never, c: never) => (fnCalls++, services.fn(r, c)) };
  const err = await collectPlans(
    [lf.node],
    { reuse: false, progress: false, budget: { tokens: Math.floor(e.tokens / 2) } },
    counted,
  ).catch((x: unknown) => x);
  assert.instance(err, halo.BudgetError);
  const error = err as InstanceType<typeof halo.BudgetError>;
  assert.equal(error.exceeded, ["tokens"]);
  assert.is(error.estimate?.tokens, e.tokens);
  assert.match(error.message, /nothing was run/);
  assert.match(
    error.message,
    new RegExp(`${Math.round(e.tokens).toLocaleString("en-US")} tokens of`),
  );
  assert.match(
    error.message,
    /top nodes by tokens:\n {4}#\d+ LlmCall (upbeat|summary): \d+ tokens/,
  );
  assert.not.match(
    error.message,
    /FnCall/,
    "nodes that spend nothing of the budget are not listed",
  );
  assert.match(error.message, /what would help: /);
  assert.is(llm(), 0, "no LLM request");
  assert.is(fnCalls, 0, "no tool call");
  // With a pass switched off that would cut the cost, the message says so.
  const dup = halo
    .lazy([...rows, ...rows].map((r, i) => ({ ...r, id: i })))
    .agent({ prompt: "Tag: {{text}}", output: "tag", maxTokens: 4 });
  const off = await dup.estimate({ reuse: false, optimizations: { dedupeCalls: false } });
  const hint = await dup
    .collectRows({
      reuse: false,
      progress: false,
      optimizations: { dedupeCalls: false },
      budget: { tokens: Math.ceil(off.tokens * 0.75) },
    })
    .catch((x: unknown) => String(x));
  assert.match(String(hint), /optimizer pass\(es\) dedupeCalls are off; with every pass on/);
});

for (const executor of ["processor", "row-by-row"] as const)
  test(`${executor}: a tokens budget overrun stops the run, keeps finished calls, a rerun makes the rest`, async () => {
    if (!present) return;
    halo.clearCache();
    const lf = frame(executor);
    const e = await lf.estimate();
    // Above the estimate (which sees only the documents' placeholders), below what the run reads.
    const budget = { tokens: Math.ceil(e.tokens * 1.2) };
    const events: string[] = [];
    const err = await lf
      .collectRows({ executor, progress: false, budget, onProgress: (ev) => events.push(ev.kind) })
      .catch((x: unknown) => x);
    assert.instance(err, halo.BudgetError, String(err));
    const error = err as InstanceType<typeof halo.BudgetError>;
    assert.match(error.message, /went over its budget and was stopped: [\d,]+ tokens of/);
    assert.match(error.message, /(\d+) calls finished and were kept/);
    assert.ok(error.spent!.tokens > budget.tokens);
    const first = halo.lastRun!;
    assert.ok(first.budget?.stopped, "lastRun says the budget stopped it");
    assert.match(first.summary(), /budget: .* \(stopped: over budget\)/);
    const made = first.nodes.find((n) => n.label === "summary")!.calls;
    assert.ok(made > 0, "the summary node made calls before the stop");
    assert.is(
      first.nodes.find((n) => n.label === "upbeat")?.calls ?? 0,
      0,
      "the next node never ran",
    );
    assert.ok(first.callsKept >= made, "every LLM call that finished was kept");
    // The rerun without a budget answers the kept calls from the stores and makes only the rest.
    const [table] = await collectPlans([lf.node], { executor, progress: false });
    const rerun = halo.lastRun!;
    const summary = rerun.nodes.find((n) => n.label === "summary")!;
    // All 8 may finish in the batch that went over: then the node's whole table is kept.
    const stored = rerun.reusedNodeIds.includes(summary.nodeId) ? 8 : (summary.storedCalls ?? 0);
    assert.is(stored, made, "the calls the stopped run made were kept");
    assert.is(summary.calls, made === 8 ? 0 : 8 - made, "only the missing summary calls were made");
    assert.is(table!.rows.length, 8);
    assert.ok(table!.rows.every((r) => r.upbeat === "yes" || r.upbeat === "no"));
  });

test("a seconds budget stops a run that outlasts it, on its clock", async () => {
  let started = 0;
  const slow = async (id: number) => {
    started++;
    await new Promise((r) => setTimeout(r, 150));
    return id * 2;
  };
  const lf = halo.lazy(rows).tool(slow, { inputs: "id", output: "twice", key: "slow-twice@1" });
  // The estimate charges a function call its prior (well under a millisecond): it passes.
  const err = await lf
    .collectRows({ executor: "row-by-row", progress: false, budget: { seconds: 0.4 } })
    .catch((x: unknown) => x);
  assert.instance(err, halo.BudgetError, String(err));
  const error = err as InstanceType<typeof halo.BudgetError>;
  assert.equal(error.exceeded, ["seconds"]);
  assert.match(error.message, /[\d.]+ s of 0\.40 s/);
  assert.ok(started < 8, `stopped before all 8 rows started (${started})`);
  const kept = halo.lastRun!.callsKept;
  assert.ok(kept > 0 && kept < 8, `${kept} calls kept`);
  started = 0;
  await lf.collectRows({ executor: "row-by-row", progress: false });
  assert.is(started, 8 - kept, "the rerun called only the rows the stopped run had not finished");
});

test("bad budgets name the field and the value", async () => {
  const lf = halo.lazy(rows).agent({ prompt: "{{text}}", output: "x", maxTokens: 2 });
  const bad = (budget: unknown) =>
    lf.collectRows({ budget: budget as never, progress: false }).then(
      () => "no error",
      (e: unknown) => String(e),
    );
  assert.match(await bad({ tokens: -5 }), /budget\.tokens must be a number above 0.*got -5/);
  assert.match(await bad({ seconds: "10" }), /budget\.seconds must be a number above 0.*got "10"/);
  assert.match(await bad({ usd: Number.NaN }), /budget\.usd must be a number above 0.*NaN/);
  assert.match(
    await bad({ dollars: 1 }),
    /budget\.dollars is not a budget \(known: seconds, tokens, usd\)/,
  );
  assert.match(await bad({}), /budget names no limit/);
  if (present)
    assert.match(
      await bad({ usd: 1 }),
      /budget\.usd needs a price on a model of the plan \(shipped has none\)/,
    );
  assert.match(await bad(7), /budget must be an object/);
});

test.run();
