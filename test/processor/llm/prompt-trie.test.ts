// PromptTrie, the admission rule's index of a round's chosen prompts: the longest prefix a prompt
// shares with any added one, checked against comparing with each in turn on random prompts over a
// 3-token alphabet (many shared prefixes, splits at every depth, prompts that are prefixes of
// others, empty prompts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PromptTrie } from "../../../src/processor/llm/admission.ts";

function shared(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

test("longestShared equals the best of comparing with every added prompt", () => {
  let seed = 3;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const prompt = () => Array.from({ length: Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 3));
  let checks = 0;
  for (let t = 0; t < 500; t++) {
    const trie = new PromptTrie();
    const added: number[][] = [];
    for (let s = 0; s < 20; s++) {
      const q = prompt();
      assert.is(trie.longestShared(q), Math.max(0, ...added.map((a) => shared(a, q))));
      checks++;
      const p = prompt();
      trie.add(p);
      added.push(p);
    }
  }
  assert.is(checks, 10_000);
});

test("a prompt shares all of itself once added, and nothing with an empty trie", () => {
  const trie = new PromptTrie();
  assert.is(trie.longestShared([1, 2, 3]), 0);
  trie.add([1, 2, 3, 4]);
  trie.add([1, 2, 9]);
  assert.is(trie.longestShared([1, 2, 3, 4]), 4);
  assert.is(trie.longestShared([1, 2, 3, 4, 5]), 4);
  assert.is(trie.longestShared([1, 2, 9, 9]), 3);
  assert.is(trie.longestShared([1, 2]), 2);
  assert.is(trie.longestShared([2]), 0);
});

test.run();
