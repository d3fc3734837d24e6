// Constrained choice: a trie of the choices' token sequences. At each step only the children of
// the current node are allowed, so the output is always a prefix of some choice and ends exactly
// on one. Choices are tokenized on their own, which is how the shipped model saw its answers
// in training (models/build encodes each answer separately from the prompt).

interface TrieNode {
  children: Map<number, TrieNode>;
  /** The choice that ends here, if any. */
  choice?: string;
}

export class ChoiceTrie {
  private readonly root: TrieNode = { children: new Map() };

  constructor(choices: readonly string[], encode: (text: string) => number[]) {
    if (choices.length === 0) throw new Error("choices must hold at least one label");
    for (const choice of choices) {
      if (typeof choice !== "string" || choice.length === 0)
        throw new Error(`choices must be non-empty strings; got ${JSON.stringify(choice)}`);
      let node = this.root;
      for (const id of encode(choice)) {
        let next = node.children.get(id);
        if (!next) {
          next = { children: new Map() };
          node.children.set(id, next);
        }
        node = next;
      }
      node.choice = choice;
    }
  }

  /** A cursor walking the trie as tokens are generated. */
  start(): ChoiceCursor {
    return new ChoiceCursor(this.root);
  }
}

export class ChoiceCursor {
  private node: TrieNode;

  constructor(node: TrieNode) {
    this.node = node;
  }

  /** Token ids that keep the output a prefix of some choice. */
  allowed(): number[] {
    return [...this.node.children.keys()];
  }

  /** The choice completed so far (a choice may also be a prefix of a longer one). */
  get complete(): string | undefined {
    return this.node.choice;
  }

  /** True when no longer choice can follow: generation stops here. */
  get finished(): boolean {
    return this.node.children.size === 0;
  }

  advance(id: number): void {
    const next = this.node.children.get(id);
    if (!next) throw new Error(`token ${id} is not allowed by the choices`);
    this.node = next;
  }
}
