// The automaton and its token masks on hand-written byte-level cases: tokens that cross JSON's
// own boundaries (a token closing a string and opening the next key), escapes, UTF-8 characters
// split across tokens, numbers with exponents and bounds, and the budget rule that always lets a
// value finish within maxTokens.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LazyDfa, DEAD } from "../../../src/runtime/json-schema/lazy-dfa.ts";
import { normalizeSchema } from "../../../src/runtime/json-schema/normalize.ts";
import { compileSchemaNfa } from "../../../src/runtime/json-schema/schema-nfa.ts";
import { SchemaCursor, SchemaGuide } from "../../../src/runtime/json-schema/token-guide.ts";
import { vocabularyFromBytes } from "../../../src/runtime/json-schema/token-vocabulary.ts";

const utf8 = new TextEncoder();
const ALL = new Uint8Array(256).fill(1);

/** Whether `text` (as bytes) is a complete value of the schema in the canonical form. */
function accepts(schema: Record<string, unknown>, text: string | Uint8Array): boolean {
  const dfa = new LazyDfa(compileSchemaNfa(normalizeSchema(schema)), ALL);
  const s = dfa.walk(dfa.start, typeof text === "string" ? utf8.encode(text) : text);
  return s !== DEAD && dfa.accepting[s]!;
}

/** Whether `text` can still be extended into a valid value. */
function prefixOk(schema: Record<string, unknown>, text: string): boolean {
  const dfa = new LazyDfa(compileSchemaNfa(normalizeSchema(schema)), ALL);
  return dfa.walk(dfa.start, utf8.encode(text)) !== DEAD;
}

/** Every single byte plus some multi-byte tokens, like a byte-level BPE vocabulary. */
function vocab(extra: (string | number[])[]) {
  const tokens: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) tokens.push(new Uint8Array([b]));
  for (const e of extra) tokens.push(typeof e === "string" ? utf8.encode(e) : new Uint8Array(e));
  return vocabularyFromBytes(tokens);
}

const OBJ = {
  type: "object",
  properties: { a: { type: "string" }, b: { type: "integer" } },
  required: ["a", "b"],
};

test("a token may close a string and open the next key; a space between is not canonical", () => {
  const v = vocab(['"},"', '","b":', '", "b":', '"}', "x"]);
  const guide = new SchemaGuide(normalizeSchema(OBJ), v);
  const id = (t: string) => v.bytes.findIndex((b) => b && new TextDecoder().decode(b) === t);
  let s = guide.dfa.walk(guide.dfa.start, utf8.encode('{"a":"hi'));
  const allowed = new Set(guide.mask(s).tokens);
  assert.ok(allowed.has(id('","b":')), "one token closes a and opens b");
  assert.not.ok(allowed.has(id('", "b":')), "no whitespace in the compact form");
  assert.not.ok(allowed.has(id('"}')), "b is required: the object cannot close yet");
  assert.ok(allowed.has(id("x")));
  s = guide.advance(s, id('","b":'));
  assert.is.not(s, DEAD);
  assert.is(guide.advance(s, id('"},"')), DEAD, "a quote cannot start an integer");
  const nested = {
    type: "object",
    properties: {
      o: { type: "object", properties: { k: { type: "string" } }, required: ["k"] },
      z: { type: "boolean" },
    },
    required: ["o", "z"],
  };
  const g2 = new SchemaGuide(normalizeSchema(nested), v);
  const inside = g2.dfa.walk(g2.dfa.start, utf8.encode('{"o":{"k":"v'));
  assert.ok(
    g2.mask(inside).tokens.includes(id('"},"')),
    'one token ends k, closes o and starts z ("},")',
  );
  assert.ok(accepts(nested, '{"o":{"k":"v"},"z":true}'));
});

test("escapes: the ones JSON.stringify writes, and only those", () => {
  const s = { type: "string" };
  for (const text of ["a", 'a"b', "a\\b", "line\nbreak", "tab\t", "\u0001", "é", "😀", "/"])
    assert.ok(accepts(s, JSON.stringify(text)), `accepts ${JSON.stringify(text)}`);
  for (const raw of ['"\\/"', '"\\u0041"', '"\\x"', '"a\nb"', '"\\u00e9"', '"a"b"'])
    assert.not.ok(accepts(s, raw), `rejects ${raw}`);
  assert.ok(accepts({ type: "string", maxLength: 2 }, '"\\n\\""'), "an escape is one character");
  assert.not.ok(accepts({ type: "string", maxLength: 2 }, '"abc"'));
  assert.ok(accepts({ type: "string", minLength: 2 }, '"ab"'));
  assert.not.ok(accepts({ type: "string", minLength: 2 }, '"a"'));
});

test("unicode: a character split across tokens, counted once by maxLength; no invalid UTF-8", () => {
  const euro = [...utf8.encode("€")]; // e2 82 ac
  const v = vocab([
    [0x22, euro[0]!],
    [euro[1]!, euro[2]!, 0x22],
  ]); // `"\xe2` and `\x82\xac"`
  const node = normalizeSchema({ type: "string", maxLength: 1 });
  const guide = new SchemaGuide(node, v);
  const first = v.bytes.length - 2;
  let s = guide.advance(guide.dfa.start, first);
  assert.is.not(s, DEAD, "a token may end inside a character");
  s = guide.advance(s, first + 1);
  assert.ok(guide.dfa.accepting[s], '"€" is one character');
  assert.ok(accepts({ type: "string", maxLength: 1 }, '"😀"'), "4-byte characters count once");
  assert.not.ok(accepts({ type: "string", maxLength: 1 }, '"ab"'));
  assert.not.ok(
    accepts({ type: "string" }, new Uint8Array([0x22, 0xe2, 0x82, 0x22])),
    "a truncated character",
  );
  assert.not.ok(
    accepts({ type: "string" }, new Uint8Array([0x22, 0xc0, 0x80, 0x22])),
    "an overlong form",
  );
  assert.not.ok(
    accepts({ type: "string" }, new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])),
    "a surrogate",
  );
});

test("numbers: JSON grammar with exponents when unbounded; bounds exact in plain decimals", () => {
  const n = { type: "number" };
  for (const t of ["0", "-0", "12", "-3.25", "1e5", "1E+2", "2.5e-10", "0.0"])
    assert.ok(accepts(n, t), t);
  for (const t of ["01", "1.", ".5", "1e", "+1", "--1", "1e+", "1.2.3", "NaN"])
    assert.not.ok(accepts(n, t), t);
  assert.ok(prefixOk(n, "1e"), "an exponent may be under way");
  const i = { type: "integer", minimum: -5, maximum: 120 };
  for (const t of ["-5", "0", "7", "99", "120"]) assert.ok(accepts(i, t), t);
  for (const t of ["-6", "121", "1.0", "1e2", "-0", "007"]) assert.not.ok(accepts(i, t), t);
  const r = { type: "number", exclusiveMinimum: 0.5, maximum: 2.25 };
  for (const t of ["0.51", "0.500001", "1", "2", "2.25", "2.250", "1.999"])
    assert.ok(accepts(r, t), t);
  for (const t of ["0.5", "0.50", "0.4999", "2.2501", "3", "-1", "1e0"])
    assert.not.ok(accepts(r, t), t);
  const neg = { type: "number", minimum: -1.5, exclusiveMaximum: 0 };
  for (const t of ["-1.5", "-1", "-0.001", "-1.49"]) assert.ok(accepts(neg, t), t);
  for (const t of ["0", "-0", "-1.51", "0.1", "-2"]) assert.not.ok(accepts(neg, t), t);
  const big = { type: "integer" }; // unbounded: within +-(2^53 - 1)
  assert.ok(accepts(big, "9007199254740991"));
  assert.not.ok(accepts(big, "9007199254740992"));
});

test("enum, const, null, boolean, anyOf, arrays with minItems / maxItems, optional properties", () => {
  assert.ok(accepts({ enum: ["a b", 3, null, { x: [1] }] }, '{"x":[1]}'));
  assert.not.ok(accepts({ enum: ["a", "b"] }, '"c"'));
  assert.ok(accepts({ const: "x" }, '"x"'));
  assert.ok(accepts({ type: ["string", "null"] }, "null"));
  assert.ok(accepts({ anyOf: [{ type: "boolean" }, { type: "integer", maximum: 3 }] }, "3"));
  assert.not.ok(accepts({ anyOf: [{ type: "boolean" }, { type: "integer", maximum: 3 }] }, "4"));
  const arr = { type: "array", items: { type: "integer" }, minItems: 1, maxItems: 2 };
  for (const t of ["[1]", "[1,2]"]) assert.ok(accepts(arr, t), t);
  for (const t of ["[]", "[1,2,3]", "[1,]", "[,1]", "[1 ,2]"]) assert.not.ok(accepts(arr, t), t);
  const opt = {
    type: "object",
    properties: { a: { type: "integer" }, b: { type: "integer" }, c: { type: "integer" } },
    required: ["b"],
  };
  for (const t of ['{"b":1}', '{"a":1,"b":2}', '{"b":1,"c":2}', '{"a":0,"b":1,"c":2}'])
    assert.ok(accepts(opt, t), t);
  for (const t of ['{"a":1}', '{"b":1,"a":2}', '{,"b":1}', '{"b":1,}', "{}"])
    assert.not.ok(accepts(opt, t), t);
  assert.ok(accepts({ type: "object", properties: { a: { type: "null" } } }, "{}"));
});

test("patterns: anchored, unanchored, classes and counts; unsupported features named", () => {
  const p = (pattern: string) => ({ type: "string", pattern });
  assert.ok(accepts(p("^[a-z]{2,3}-\\d+$"), '"ab-12"'));
  assert.not.ok(accepts(p("^[a-z]{2,3}-\\d+$"), '"abcd-1"'));
  assert.ok(accepts(p("ab"), '"xxabyy"'), "unanchored: anywhere");
  assert.not.ok(accepts(p("ab"), '"xxa"'));
  assert.ok(accepts(p('^a"b$'), '"a\\"b"'), "a quote in the pattern is escaped in JSON");
  assert.ok(accepts(p("^(cat|dog)s?$"), '"dogs"'));
  assert.ok(accepts(p("^[^a-z]+$"), '"ÄB1"'));
  assert.not.ok(accepts(p("^[^a-z]+$"), '"Ab"'));
  for (const [bad, feature] of [
    ["(?=a)b", /lookaround/],
    ["(a)\\1", /backreferences/],
    ["\\bword", /word boundaries/],
    ["a^b", /only at the start/],
    ["\\p{L}", /property escapes/],
  ] as const)
    assert.throws(() => compileSchemaNfa(normalizeSchema(p(bad))), feature);
});

test("the budget rule: every walk ends on a complete value within maxTokens", () => {
  const v = vocab(['"},"', "abc", "12", '":"', '{"a":"']);
  const guide = new SchemaGuide(normalizeSchema(OBJ), v);
  const shortest = '{"a":"","b":0}'.length;
  assert.is(guide.minTokens, shortest);
  assert.throws(() => new SchemaCursor(guide, shortest - 1), /too small for the schema/);
  for (const budget of [shortest, shortest + 1, shortest + 5, 40]) {
    // the worst model: always the allowed token that postpones the end the most
    const cursor = new SchemaCursor(guide, budget);
    let used = 0;
    while (!cursor.finished && used < budget) {
      const allowed = cursor.allowed(budget - used);
      assert.ok(allowed.length > 0, `tokens left at step ${used} of ${budget}`);
      cursor.advance(allowed.includes(v.bytes.length - 4) ? v.bytes.length - 4 : allowed[0]!);
      used++;
    }
    assert.ok(cursor.complete, `complete within ${budget} tokens`);
  }
});

test("masks are memoized per state", () => {
  const guide = new SchemaGuide(normalizeSchema({ type: "string" }), vocab(["ab"]));
  const inside = guide.dfa.walk(guide.dfa.start, utf8.encode('"x'));
  const a = guide.mask(inside);
  const b = guide.mask(guide.dfa.walk(guide.dfa.start, utf8.encode('"xyz')));
  assert.is(a, b, "the same DFA state: the same mask object");
  assert.equal(guide.stats, { computed: 1, hits: 1 });
});

test.run();
