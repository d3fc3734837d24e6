// The drawing fed by the real plan: LazyFrame.graph() (src/plan/graph.ts) through explainBundle.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { explainBundle } from "../../src/display/explain.ts";
import { LazyFrame } from "../../src/frame/lazy-frame.ts";
import { allElements, byClass, parseSvg } from "./xml-check.ts";

test("a LazyFrame's plan graph draws with one box per plan node and its explain text", async () => {
  const rows = [
    { id: 1, text: "great <b>product</b> & fast" },
    { id: 2, text: "broke after a day" },
  ];
  const frame = LazyFrame.from(rows)
    .agent({
      prompt: "Sentiment of: {{text}}",
      output: "sentiment",
      choices: ["positive", "negative"],
    })
    .filter((r) => r["sentiment"] === "negative")
    .agent({ prompt: "Summarize: {{text}}", output: "summary", maxTokens: 24 });
  const graph = frame.graph();
  const b = await explainBundle(frame.explain(), graph);
  assert.is(b["text/plain"], frame.explain());
  const svg = parseSvg(b["image/svg+xml"] as string);
  const boxes = byClass(svg, "plan-node");
  assert.is(boxes.length, graph.nodes.length);
  assert.equal(
    boxes.map((g) => Number(g.attrs["data-id"])).sort((a, b) => a - b),
    graph.nodes.map((n) => n.id).sort((a, b) => a - b),
  );
  // LLM nodes get the LLM colour.
  const llm = boxes.filter((g) => g.attrs["data-kind"] === "LlmCall");
  assert.is(llm.length, 2);
  for (const g of llm)
    assert.is(g.children.find((c) => c.attrs["rx"] === "6")!.attrs["fill"], "#dbe6f1");
  const edges = allElements(svg).filter((e) => e.name === "path" && e.attrs["marker-end"]);
  assert.is(edges.length, graph.edges.length);
});

test("nodes the plan merged (merged > 1) carry the merged tag with the count", async () => {
  const b = await explainBundle("x", {
    nodes: [
      { id: 0, label: "Source", kind: "Source", detail: "rows", merged: 1 },
      { id: 1, label: "sentiment", kind: "LlmCall", detail: "", merged: 3 },
    ],
    edges: [{ from: 0, to: 1 }],
  });
  const texts = allElements(parseSvg(b["image/svg+xml"] as string))
    .filter((e) => e.name === "text")
    .map((e) => e.text);
  assert.ok(texts.includes("merged ×3"), texts.join(" | "));
  assert.is(texts.filter((t) => t.startsWith("merged ×")).length, 1);
});

test.run();
