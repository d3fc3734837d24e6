// A model name registered again names another model everywhere at once: the optimizer tokenizes
// with the new model's tokenizer (not the old one's, which explain() would otherwise keep using),
// the cost model plans with the new model's profile, and the answers are the new model's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { priorProfile, type Profile } from "../../src/cost/profile.ts";
import { session } from "../../src/frame/session.ts";
import { halo } from "../../src/index.ts";
import { fakeModel, type FakeModel } from "./fixtures/fake-model.ts";

/** A fake model that knows its own cost profile (as `halo.openai` models do) and its token width. */
function modelWith(id: string, kvBytesPerToken: number, tokensPerChar: number) {
  const model = fakeModel(id) as FakeModel & { loadProfile(): Promise<Profile> };
  const encode = model.encodeChat.bind(model);
  model.encodeChat = (messages) => encode(messages).flatMap((t) => Array(tokensPerChar).fill(t));
  model.loadProfile = async () => priorProfile(id, { kvBytesPerToken });
  return model;
}

const rows = [{ text: "alpha" }, { text: "beta" }];
const frame = () => halo.lazy(rows).agent({ prompt: "Say {{text}}", output: "out", model: "m" });

/** Prompt tokens the optimizer counted for the agent node, from explain. */
function plannedTokens(): number {
  const text = frame().explain({ optimized: true });
  const m = /prefix \d+\/(\d+) tok/.exec(text);
  assert.ok(m, text);
  return Number(m[1]);
}

test("registering a name again drops the optimizer's tokenizer and profile for it", async () => {
  const first = modelWith("first", 111, 1);
  const second = modelWith("second", 222, 3);
  halo.models.register("m", first);
  const a = await frame().collectRows({ reuse: false, calibrate: true, progress: false });
  assert.is(session.processor.cost.profile("m").kvBytesPerToken, 111);
  const firstTokens = plannedTokens();
  assert.is(halo.lastRun!.nodes.find((n) => n.kind === "LlmCall")!.prefillTokens, firstTokens);

  halo.models.register("m", second);
  // Before any collect loads the new model, explain must not tokenize with the old one.
  assert.is.not(plannedTokens(), firstTokens, "the old tokenizer is gone");
  const b = await frame().collectRows({ reuse: false, calibrate: true, progress: false });
  assert.is(session.processor.cost.profile("m").kvBytesPerToken, 222, "the new model's profile");
  assert.is(plannedTokens(), 3 * firstTokens, "the new model's tokenizer");
  assert.equal([first.calls, second.calls], [2, 2], "the new model answered");
  assert.is.not(b.rows[0]!.out, a.rows[0]!.out);

  halo.models.unregister("m");
  assert.throws(() => frame(), /model 'm' is neither a registered name/);
});

test.run();
