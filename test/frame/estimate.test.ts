// lf.estimate() on the shipped model: it plans as collect() does and runs nothing (no LLM call,
// no tool call, counted), its figures are explain's, its prompt tokens are the run's exactly when
// every prompt is known before the run, kept tables are free, it displays as a table, and a
// remote model's price gives dollars (halo.openai against the OpenAI stand-in).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bundleFor } from "../../src/display/auto-bundle.ts";
import { DISPLAY_SYMBOL, type MimeBundle } from "../../src/display/host.ts";
import { usdOf } from "../../src/cost/price.ts";
import { defaultServices, estimatePlans } from "../../src/frame/collect.ts";
import type { ExecutorServices } from "../../src/executor/types.ts";
import { halo } from "../../src/index.ts";
import type { PlanEstimate } from "../../src/frame/plan-estimate.ts";
import { session } from "../../src/frame/session.ts";
import { tokenFigures } from "../../src/optimizer/explain-report.ts";
import { startStandIn, type StandIn } from "../helpers/openai-stand-in.ts";
import { shippedModelPresent } from "./fixtures/shipped-model.ts";

const present = shippedModelPresent();
const rows = Array.from({ length: 10 }, (_, i) => ({
  id: i,
  text: `Order ${i} arrived ${i % 3 === 0 ? "late" : "on time"} and the box was ${i % 2 ? "damaged" : "fine"}.`,
}));
const SENTIMENT = {
  prompt: "Classify the sentiment: {{text}}",
  output: "sentiment",
  choices: ["positive", "negative", "neutral"],
};

/** Services that count every LLM generate and tool call made through them. */
function counting(): { services: ExecutorServices; counts: { llm: number; tools: number } } {
  const counts = { llm: 0, tools: 0 };
  const services: ExecutorServices = {
    async loadModel(key) {
      const model = await defaultServices.loadModel(key);
      return new Proxy(model, {
        get(target, prop, receiver) {
          if (prop === "generate")
            return (...args: Parameters<typeof model.generate>) => {
              counts.llm += args[0].length;
              return model.generate(...args);
            };
          const value = Reflect.get(target, prop, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    },
    sql: (r, c) => (counts.tools++, defaultServices.sql(r, c)),
    http: (r, c) => (counts.tools++, defaultServices.http(r, c)),
    fn: (r, c) => (counts.tools++, defaultServices.fn(r, c)),
  };
  return { services, counts };
}

let server: Server | undefined;
let hits = 0;
async function httpServer(): Promise<string> {
  server = createServer((_req, res) => {
    hits++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ note: "fine" }));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const standIns: StandIn[] = [];
test.after(async () => {
  server?.close();
  for (const s of standIns) await s.close();
});

test("estimate runs nothing: no LLM call, no HTTP or function call", async () => {
  if (!present) return;
  const url = await httpServer();
  let fnCalls = 0;
  const lf = halo
    .lazy(rows)
    .tool(
      (text: string) => {
        fnCalls++;
        return text.length;
      },
      { inputs: "text", output: "chars", key: "chars@1" },
    )
    .http({ url: `${url}/note?id={{id}}`, output: "note" })
    .agent(SENTIMENT);
  const { services, counts } = counting();
  // Every forward call the Processor's workers make is reported to the cost model as it ends.
  const cost = session.processor.cost;
  const observe = cost.observe.bind(cost);
  let forwards = 0;
  cost.observe = (obs, ms) => {
    if (obs.kind === "prefill" || obs.kind === "decode") forwards++;
    observe(obs, ms);
  };
  const before = halo.lastRun;
  try {
    const e = await estimatePlans([lf.node], { reuse: false }, { services });
    assert.equal(counts, { llm: 0, tools: 0 });
    const plain = await lf.estimate({ reuse: false });
    assert.is(forwards, 0, "no forward call on the Processor");
    assert.is(halo.lastRun, before, "no run report: nothing ran");
    assert.is(hits, 0, "no HTTP request reached the server");
    assert.is(fnCalls, 0, "the function was not called");
    await lf.collectRows({ reuse: false, progress: false });
    assert.ok(forwards > 0, "the counter sees a run's forward calls");
    checkFigures(e, plain);
  } finally {
    cost.observe = observe;
  }
});

function checkFigures(e: PlanEstimate, plain: PlanEstimate): void {
  assert.is(e.llmCalls, 10);
  assert.equal(e.toolCalls, { sql: 0, http: 10, function: 10 });
  assert.equal(plain.toolCalls, e.toolCalls);
  const llm = e.nodes.find((n) => n.kind === "LlmCall")!;
  assert.is(llm.rows, 10);
  assert.ok(llm.promptTokens > 0 && llm.decodeTokens > 0 && e.seconds > 0);
}

test("estimate figures are explain's, per node and in total", async () => {
  if (!present) return;
  const lf = halo
    .lazy(rows)
    .agent(SENTIMENT)
    .agent({ prompt: "Summarize: {{text}}", output: "summary", maxTokens: 6 });
  const e = await lf.estimate({ reuse: false });
  // explain plans with the session's kept tables; none are kept for these frames yet
  const text = lf.explain({ optimized: true });
  const header = text.split("\n").find((l) => l.trim().startsWith("estimate:"))!;
  assert.ok(header.includes(tokenFigures(e)), `${header}\n  vs ${tokenFigures(e)}`);
  assert.ok(header.includes(`${e.llmCalls} LLM calls`));
  for (const n of e.nodes) {
    const line = text.split("\n").find((l) => l.startsWith(`#${n.id} `))!;
    assert.ok(line.includes(tokenFigures(n)), `${line}\n  vs ${tokenFigures(n)}`);
  }
  assert.ok(header.includes(`estimate: ${(e.seconds * 1000).toFixed(0)}ms`), header);
});

test("prompt tokens of known prompts are the run's exactly; kept tables then cost nothing", async () => {
  if (!present) return;
  halo.clearCache();
  const lf = halo.lazy(rows).agent({ ...SENTIMENT, output: "s2" });
  const e = await lf.estimate();
  await lf.collectRows({ progress: false });
  const run = halo.lastRun!;
  const node = run.nodes.find((n) => n.kind === "LlmCall")!;
  assert.is(e.promptTokens, node.prefillTokens + node.cachedTokens);
  assert.equal(node.estimated?.promptTokens, e.promptTokens, "lastRun keeps the estimate");
  assert.match(run.summary(), /est prompt=\d+ cached=\d+ decode=\d+/);
  // Choices: the mean label's tokens; greedy picks one of them, so the run is within a label.
  const labels = e.nodes[0]!.decodeTokens / 10;
  assert.ok(Math.abs(node.decodeTokens / 10 - labels) <= 2, `${node.decodeTokens} vs ${labels}`);
  const again = await lf.estimate();
  assert.is(again.llmCalls, 0);
  assert.is(again.tokens, 0);
  assert.ok(again.nodes[0]!.kept);
  assert.match(lf.explain({ optimized: true }), /kept from an earlier collect: nothing runs/);
  const { services, counts } = counting();
  const fresh = await estimatePlans([lf.node], { reuse: false }, { services });
  assert.is(fresh.llmCalls, 10, "reuse: false counts every call again");
  assert.is(counts.llm, 0);
});

test("an estimate displays as a table", async () => {
  if (!present) return;
  const e = await halo.estimateAll([halo.lazy(rows).agent(SENTIMENT), halo.lazy(rows.slice(0, 4))]);
  // As the kernel shows a cell's value (display(x) and results go through bundleFor).
  const bundle = (await bundleFor(e)) as MimeBundle;
  assert.equal(bundle, e[DISPLAY_SYMBOL]());
  assert.match(String(bundle["text/html"]), /<table/);
  assert.match(String(bundle["text/html"]), /sentiment/);
  assert.is(bundle["text/plain"], e.summary());
  assert.match(e.summary(), /^estimate: [\d.]+ s, \d+ LLM calls/);
});

test("a price on halo.openai gives dollars; bad prices name the field and the value", async () => {
  const server = await startStandIn({ answer: () => "fine thanks" });
  standIns.push(server);
  const price = { inputPer1M: 2.5, outputPer1M: 10, cachedInputPer1M: 1.25 };
  const model = halo.openai({ baseUrls: server.url, model: "gpt-stand-in", price });
  assert.equal(model.price, price);
  halo.models.register("priced", model);
  try {
    const lf = halo
      .lazy(rows)
      .agent({ prompt: "Say hi to {{text}}", output: "hi", maxTokens: 5, model: "priced" });
    const e = await lf.estimate({ reuse: false });
    const node = e.nodes[0]!;
    assert.ok(node.usd! > 0);
    assert.is(
      node.usd,
      usdOf(price, {
        prompt: node.promptTokens,
        cached: node.cachedTokens,
        decode: node.decodeTokens,
      }),
    );
    assert.is(e.usd, node.usd);
    assert.match(lf.explain({ optimized: true }), /\$0\.\d+/);
    assert.is(server.received.length, 0, "estimating asked the server nothing");
    // A budget the estimate exceeds refuses before any request.
    const refused = await lf
      .collectRows({ reuse: false, progress: false, budget: { usd: node.usd! / 2 } })
      .catch((err: unknown) => err);
    assert.instance(refused, halo.BudgetError);
    assert.match(String(refused), /\$[\d.]+ of \$[\d.]+/);
    assert.is(server.received.length, 0);
  } finally {
    halo.models.unregister("priced");
  }
  // Spent dollars during a run: prompts holding a long tool result the estimate counts at zero.
  const wordy = (text: string) => `${text} ${"and then the parcel went on its way ".repeat(40)}`;
  halo.models.register("priced", model);
  try {
    const lf = halo
      .lazy(rows)
      .tool(wordy, { inputs: "text", output: "doc", key: "wordy@1" })
      .agent({ prompt: "Summarize {{doc}}", output: "gist", maxTokens: 5, model: "priced" })
      .agent({ prompt: "Shorten {{gist}}", output: "short", maxTokens: 5, model: "priced" });
    const e = await lf.estimate({ reuse: false });
    const budget = { usd: e.usd! * 1.5 };
    const err = await lf
      .collectRows({ reuse: false, progress: false, budget })
      .catch((x: unknown) => x);
    assert.instance(err, halo.BudgetError, String(err));
    const spent = (err as InstanceType<typeof halo.BudgetError>).spent!;
    assert.ok(spent.usd > budget.usd, `${spent.usd} > ${budget.usd}`);
    const run = halo.lastRun!;
    // Calls that answered after the stop still count in the report, never less.
    assert.ok(run.budget!.spent.usd >= spent.usd);
    const gist = run.nodes.find((n) => n.label === "gist")!;
    // The meter's dollars are the server's reported usage at the price: the run's trace, which
    // also holds calls that answered after the stop, has at least as much.
    const fromUsage = usdOf(price, {
      prompt: gist.prefillTokens + gist.cachedTokens,
      cached: gist.cachedTokens,
      decode: gist.decodeTokens,
    });
    assert.ok(fromUsage >= spent.usd - 1e-12, `${fromUsage} vs ${spent.usd}`);
    assert.is(run.nodes.find((n) => n.label === "short")?.calls ?? 0, 0, "the next node never ran");
  } finally {
    halo.models.unregister("priced");
  }
  const bad = (p: unknown) => {
    try {
      halo.openai({ baseUrls: server.url, model: "m", price: p as never });
    } catch (err) {
      return String(err);
    }
    return "no error";
  };
  assert.match(bad({ inputPer1M: "cheap", outputPer1M: 1 }), /price\.inputPer1M .*"cheap"/);
  assert.match(bad({ inputPer1M: 1 }), /price\.outputPer1M .*got nothing/);
  assert.match(bad({ inputPer1M: 1, outputPer1M: -2 }), /price\.outputPer1M .*-2/);
  assert.match(bad({ inputPer1M: 1, outputPer1M: 2, perCall: 1 }), /price\.perCall is not/);
  assert.match(bad(5), /price must be an object/);
});

test.run();
