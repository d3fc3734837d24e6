// Every token's bytes, read from tokenizer.json, and the byte trie of them that masks walk.
// Byte-level BPE (GPT-2, Qwen, Llama 3: a `ByteLevel` decoder) spells bytes as printable
// characters, mapped back here; SentencePiece-style vocabularies (Llama 2, Mistral) write a
// space as "▁" and bytes as "<0xNN>". Special tokens get no bytes: constrained generation never
// writes them (eos is allowed separately, when the value is complete).

export interface TokenVocabulary {
  /** Per token id: its bytes, or null for a token never generated inside a value. */
  bytes: (Uint8Array | null)[];
  /** Which bytes are a whole token by themselves (the automaton's distances count these). */
  singleByteTokens: Uint8Array;
  trie: TokenTrie;
}

/** The tokens as a trie over bytes, flattened into arrays for tight loops. */
export interface TokenTrie {
  /** Per trie node: its children are childByte/childNode[childStart[n] .. childStart[n + 1]). */
  childStart: Int32Array;
  childByte: Uint8Array;
  childNode: Int32Array;
  /** Per trie node: the tokens spelled by the path to it: tokenIds[tokenStart[n] .. tokenStart[n + 1]). */
  tokenStart: Int32Array;
  tokenIds: Int32Array;
}

interface TokenizerJson {
  model?: { vocab?: Record<string, number> | [string, number][] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  decoder?: { type?: string; decoders?: unknown[] } | null;
}

const utf8 = new TextEncoder();

/** GPT-2's printable stand-in character of each byte, inverted. */
function byteLevelDecoder(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  for (const b of printable) map.set(String.fromCodePoint(b), b);
  let extra = 0;
  for (let b = 0; b < 256; b++)
    if (!printable.includes(b)) map.set(String.fromCodePoint(256 + extra++), b);
  return map;
}

function decoderTypes(decoder: unknown, out = new Set<string>()): Set<string> {
  const d = decoder as { type?: string; decoders?: unknown[] } | null | undefined;
  if (!d) return out;
  if (typeof d.type === "string") out.add(d.type);
  for (const inner of d.decoders ?? []) decoderTypes(inner, out);
  return out;
}

export function vocabularyFromTokenizerJson(json: unknown, vocabSize: number): TokenVocabulary {
  const t = json as TokenizerJson;
  const entries: [string, number][] = Array.isArray(t.model?.vocab)
    ? (t.model!.vocab as [string, number][]).map(([piece], id) => [piece, id])
    : Object.entries(t.model?.vocab ?? {});
  const types = decoderTypes(t.decoder);
  const byteLevel = types.has("ByteLevel") ? byteLevelDecoder() : undefined;
  const spaceMarker = types.has("Metaspace") || types.has("Replace");
  const byteFallback = types.has("ByteFallback");
  const bytes: (Uint8Array | null)[] = new Array(vocabSize).fill(null);
  const toBytes = (piece: string): Uint8Array | null => {
    if (byteLevel) {
      const out = new Uint8Array([...piece].length);
      let i = 0;
      for (const ch of piece) {
        const b = byteLevel.get(ch);
        if (b === undefined) return utf8.encode(piece); // an added word, written as text
        out[i++] = b;
      }
      return out;
    }
    const hex = byteFallback ? /^<0x([0-9A-Fa-f]{2})>$/.exec(piece) : null;
    if (hex) return new Uint8Array([parseInt(hex[1]!, 16)]);
    return utf8.encode(spaceMarker ? piece.replace(/▁/g, " ") : piece);
  };
  for (const [piece, id] of entries) if (id < vocabSize) bytes[id] = toBytes(piece);
  for (const added of t.added_tokens ?? []) {
    if (added.id >= vocabSize) continue;
    bytes[added.id] = added.special ? null : utf8.encode(added.content);
  }
  return vocabularyFromBytes(bytes);
}

/** A vocabulary from each token's bytes (null: never generated inside a value). */
export function vocabularyFromBytes(tokens: readonly (Uint8Array | null)[]): TokenVocabulary {
  const bytes = tokens.map((b) => (b && b.length > 0 ? b : null));
  const singleByteTokens = new Uint8Array(256);
  for (const b of bytes) if (b && b.length === 1) singleByteTokens[b[0]!] = 1;
  return { bytes, singleByteTokens, trie: buildTrie(bytes) };
}

function buildTrie(bytes: readonly (Uint8Array | null)[]): TokenTrie {
  interface Node {
    children: Map<number, Node>;
    tokens: number[];
  }
  const root: Node = { children: new Map(), tokens: [] };
  bytes.forEach((b, id) => {
    if (!b) return;
    let node = root;
    for (const byte of b) {
      let next = node.children.get(byte);
      if (!next) {
        next = { children: new Map(), tokens: [] };
        node.children.set(byte, next);
      }
      node = next;
    }
    node.tokens.push(id);
  });
  // number nodes breadth first, so a node's children sit together
  const order: Node[] = [root];
  for (let i = 0; i < order.length; i++)
    for (const b of [...order[i]!.children.keys()].sort((x, y) => x - y))
      order.push(order[i]!.children.get(b)!);
  const index = new Map(order.map((n, i) => [n, i]));
  const childStart = new Int32Array(order.length + 1);
  const childByte = new Uint8Array(order.length - 1);
  const childNode = new Int32Array(order.length - 1);
  const tokenStart = new Int32Array(order.length + 1);
  const tokenIds: number[] = [];
  let c = 0;
  order.forEach((node, i) => {
    childStart[i] = c;
    tokenStart[i] = tokenIds.length;
    tokenIds.push(...node.tokens);
    for (const b of [...node.children.keys()].sort((x, y) => x - y)) {
      childByte[c] = b;
      childNode[c] = index.get(node.children.get(b)!)!;
      c++;
    }
  });
  childStart[order.length] = c;
  tokenStart[order.length] = tokenIds.length;
  return { childStart, childByte, childNode, tokenStart, tokenIds: Int32Array.from(tokenIds) };
}
