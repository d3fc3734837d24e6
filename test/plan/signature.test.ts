import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { lower } from "../../src/plan/lower.ts";
import { canonicalJson, hashOf } from "../../src/plan/canonical.ts";
import { fakeModel } from "../frame/fixtures/fake-model.ts";

halo.models.register("fake", fakeModel());
const rows = () => [
  { id: 1, review: "great" },
  { id: 2, review: "awful" },
];
const classify = {
  prompt: "Review: {{review}}",
  choices: ["positive", "negative"],
  output: "label",
  model: "fake",
};

test("canonical JSON sorts keys and keeps what JSON loses", () => {
  assert.is(
    canonicalJson({ b: 1, a: [NaN, undefined, 2n] }),
    '{"a":[{"$n":"NaN"},{"$u":1},{"$b":"2"}],"b":1}',
  );
  assert.is(hashOf({ a: 1, b: 2 }), hashOf({ b: 2, a: 1 }));
  assert.is.not(hashOf({ a: 1 }), hashOf({ a: "1" }));
});

test("canonical JSON takes any depth, a value twice, and names a cycle", () => {
  // 100,000 levels: a hostile JSON query in `halo serve` parses fine and must hash, not overflow.
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.is(canonicalJson(deep).length, 200_001);
  const shared = { x: 1 };
  assert.is(canonicalJson([shared, { a: shared }]), '[{"x":1},{"a":{"x":1}}]');
  assert.is(canonicalJson(new Date(Number.NaN)), '{"$d":null}');
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.throws(() => canonicalJson(cycle), /contains itself \(a cycle\)/);
});

test("signatures are stable across frames built separately (cells, sessions)", () => {
  const a = halo.lazy(rows()).agent(classify).plan();
  const b = halo
    .lazy(rows())
    .agent({ ...classify })
    .plan();
  assert.equal(
    a.nodes.map((n) => n.signature),
    b.nodes.map((n) => n.signature),
  );
  // A pinned value: changing canonicalization must be a deliberate decision (old reuse breaks).
  assert.is(
    a.nodes[0]!.signature,
    hashOf({
      kind: "Source",
      args: { contentHash: hashOf([["id", "review"], rows()]) },
      inputs: [],
    }),
  );
});

test("the node name is a label only; arguments and source content change the signature", () => {
  const base = halo.lazy(rows()).agent(classify).plan().nodes[1]!.signature;
  assert.is(
    halo
      .lazy(rows())
      .agent({ ...classify, name: "other" })
      .plan().nodes[1]!.signature,
    base,
  );
  assert.is.not(
    halo
      .lazy(rows())
      .agent({ ...classify, maxTokens: 3 })
      .plan().nodes[1]!.signature,
    base,
  );
  const changed = rows();
  changed[1]!.review = "fine";
  assert.is.not(halo.lazy(changed).agent(classify).plan().nodes[1]!.signature, base);
});

test("sampling without a seed is never merged; with a seed it is", () => {
  const src = halo.lazy(rows());
  const hot = { ...classify, temperature: 0.8 };
  const dag = lower([src.agent(hot).node, src.agent(hot).node]);
  const llm = dag.nodes.filter((n) => n.kind === "LlmCall");
  assert.is(llm.length, 2);
  assert.ok(llm.every((n) => n.volatility === "volatile"));
  const seeded = lower([src.agent({ ...hot, seed: 7 }).node, src.agent({ ...hot, seed: 7 }).node]);
  assert.is(seeded.nodes.filter((n) => n.kind === "LlmCall").length, 1);
  assert.is(seeded.nodes.find((n) => n.kind === "LlmCall")!.merged, 2);
  // Lowered twice, a volatile node gets a new signature: no reuse across collects.
  const once = src.agent(hot);
  assert.is.not(once.plan().nodes[1]!.signature, once.plan().nodes[1]!.signature);
});

test("non-deterministic tools never merge; deterministic ones do", () => {
  const src = halo.lazy(rows());
  const f = (x: string) => x.length;
  const det = lower([
    src.tool(f, { inputs: "review", output: "n" }).node,
    src.tool(f, { inputs: "review", output: "n" }).node,
  ]);
  assert.is(det.nodes.filter((n) => n.kind === "FnCall").length, 1);
  const nondet = lower([
    src.tool(f, { inputs: "review", output: "n", deterministic: false }).node,
    src.tool(f, { inputs: "review", output: "n", deterministic: false }).node,
  ]);
  assert.is(nondet.nodes.filter((n) => n.kind === "FnCall").length, 2);
});

test("SQL signatures follow the embedded database's version", async () => {
  await halo.db.register("sig_t", [{ k: "a", v: 1 }]);
  const lf = halo
    .lazy(rows())
    .sql({ query: "select v from sig_t where k = $k", params: { k: "{{review}}" }, output: "v" });
  const before = lf.plan().nodes[1]!.signature;
  assert.is(lf.plan().nodes[1]!.signature, before);
  await halo.db.register("sig_t", [{ k: "a", v: 2 }]);
  assert.is.not(lf.plan().nodes[1]!.signature, before);
  const writes = halo
    .lazy(rows())
    .sql({ query: "insert into sig_t values ($k, 0)", params: { k: "{{review}}" }, output: "n" });
  assert.is(writes.plan().nodes[1]!.volatility, "volatile");
});

test.run();
