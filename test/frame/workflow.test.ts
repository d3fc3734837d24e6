import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { halo } from "../../src/index.ts";
import { fakeModel } from "./fixtures/fake-model.ts";

const model = fakeModel("wf");
halo.models.register("wf", model);

const TRIAGE = `
name: triage
nodes:
  - id: tickets
    type: input
    columns: [text]
  - id: classify
    type: llm
    model: wf
    prompt: "Ticket: {{ticket}}"
    choices: [billing, bug]
    output: topic
  - id: owner
    type: sql
    query: "select owner from owners where topic = $t"
    params: { t: "{{topic}}" }
    shape: value
    output: owner
  - id: size
    type: function
    function: words
    inputs: [text]
    output: words
  - id: draft
    type: llm
    model: wf
    prompt: "{{owner}} answers ({{words}} words): {{text}}"
    output: reply
    maxTokens: 200
edges:
  - { from: tickets, to: classify, map: { text: ticket } }
  - { from: classify, to: owner }
  - { from: tickets, to: size }
  - { from: owner, to: draft }
  - { from: size, to: draft }
`;

test.before(async () => {
  await halo.db.register("owners", [
    { topic: "billing", owner: "Ana" },
    { topic: "bug", owner: "Bo" },
  ]);
});

test("fan-out and fan-in compile onto the verbs; edges rename template inputs", async () => {
  const wf = halo.workflow(TRIAGE, { functions: { words: (t: string) => t.split(" ").length } });
  assert.is(wf.name, "triage");
  assert.equal(wf.steps, ["tickets", "classify", "owner", "size", "draft"]);
  const lf = wf.run([{ text: "refund my card" }, { text: "app crashes" }]);
  assert.equal(lf.columns, ["text", "topic", "owner", "words", "reply"]);
  const { rows } = await lf.collectRows();
  for (const r of rows) {
    assert.ok(r.topic === "billing" || r.topic === "bug");
    assert.is(r.owner, r.topic === "billing" ? "Ana" : "Bo");
    assert.is(r.reply, `echo:${r.owner} answers (${r.words} words): ${r.text}`);
  }
  assert.match(lf.explain(), /LlmCall classify  topic = llm\("Ticket: \{\{text\}\}"\)/);
});

test("a back edge with loop: N unrolls the body N more times", () => {
  const wf = halo.workflow(
    `
nodes:
  - { id: in, type: input }
  - { id: write, type: llm, model: wf, prompt: "Improve: {{draft}}", output: draft }
  - { id: check, type: function, function: mark, inputs: [draft], output: checked }
  - { id: final, type: function, function: mark, inputs: [checked], output: done }
edges:
  - { from: in, to: write }
  - { from: write, to: check }
  - { from: check, to: write, loop: 2 }
  - { from: check, to: final }
`,
    { functions: { mark: (x: string) => `${x}.` } },
  );
  assert.equal(wf.steps, [
    "in",
    "write",
    "check",
    "write#2",
    "check#2",
    "write#3",
    "check#3",
    "final",
  ]);
  const dag = wf.run([{ draft: "hi" }]).plan();
  assert.equal(
    dag.nodes.filter((n) => n.kind === "LlmCall").map((n) => n.label),
    ["write", "write#2", "write#3"],
  );
});

test("edges may be implicit: a node reading another's output runs after it", async () => {
  const wf = halo.workflow(
    `
nodes:
  - { id: answer, type: function, function: up, inputs: [keyword], output: shout }
  - { id: pick, type: function, function: first, inputs: [question], output: keyword }
  - { id: say, type: llm, model: wf, prompt: "Say {{shout}}", output: said }
`,
    { functions: { up: (s: string) => s.toUpperCase(), first: (q: string) => q.split(" ")[0] } },
  );
  assert.equal(wf.steps, ["pick", "answer", "say"]);
  const { rows } = await wf.run([{ question: "kettle price" }]).collectRows();
  assert.equal(rows, [
    { question: "kettle price", keyword: "kettle", shout: "KETTLE", said: "echo:Say KETTLE" },
  ]);
});

test("a workflow file path is read", async () => {
  const dir = mkdtempSync(join(tmpdir(), "halo-wf-"));
  const path = join(dir, "triage.yaml");
  writeFileSync(path, TRIAGE);
  const wf = halo.workflow(path, { functions: { words: () => 1 } });
  assert.is(wf.steps.length, 5);
});

test("bad workflows fail with the node and the reason", () => {
  const fns = { functions: { words: () => 1 } };
  assert.throws(() => halo.workflow("nodes: [", fns), /not valid YAML/);
  assert.throws(() => halo.workflow("nodes: []"), /`nodes` must be a non-empty list/);
  assert.throws(
    () => halo.workflow("nodes:\n  - { id: a, type: agent }"),
    /node 'a': type must be one of input, llm, sql, http, function/,
  );
  assert.throws(
    () => halo.workflow("nodes:\n  - { id: a, type: input }\nedges:\n  - { from: a, to: b }"),
    /names a node that does not exist/,
  );
  const cyc =
    "nodes:\n  - { id: a, type: function, function: words, inputs: [x], output: y }\n  - { id: b, type: function, function: words, inputs: [y], output: x }\nedges:\n  - { from: a, to: b }\n  - { from: b, to: a }";
  assert.throws(() => halo.workflow(cyc, fns), /cycle \(a, b\); mark the back edge with loop: N/);
  const missingFn = halo.workflow(
    "nodes:\n  - { id: s, type: function, function: nope, inputs: [x], output: y }",
  );
  assert.throws(
    () => missingFn.run([{ x: 1 }]),
    /workflow 'workflow': node 's': function 'nope' is not in options.functions/,
  );
  const badPrompt = halo.workflow(
    "nodes:\n  - { id: l, type: llm, model: wf, prompt: '{{missing}}', output: o }",
  );
  assert.throws(
    () => badPrompt.run([{ x: 1 }]),
    /node 'l': .agent\(\) prompt: placeholder \{\{missing\}\} names no column/,
  );
  const badInput = halo.workflow("nodes:\n  - { id: i, type: input, columns: [text] }");
  assert.throws(() => badInput.run([{ x: 1 }]), /no column\(s\) 'text'/);
  assert.throws(() => halo.workflow("missing.yaml"), /no file missing.yaml/);
});

test.run();
