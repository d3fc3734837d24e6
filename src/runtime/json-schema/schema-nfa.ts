// A normalized schema (schema-node.ts) as one byte NFA whose language is exactly the schema's
// valid values in Halo's canonical compact JSON: no whitespace, object properties in schema
// order (optional ones may be left out), strings with the escapes JSON.stringify writes
// (\" \\ \b \f \n \r \t, \u00XX for other control characters) and every other character as
// UTF-8. One spelling per value keeps answers short and maxLength/pattern exact.
import {
  alt,
  ByteNfa,
  charSet,
  concat,
  literal,
  optional,
  repeat,
  subtract,
  utf8Char,
  type CharSet,
  type Piece,
} from "./byte-nfa.ts";
import { numberPiece } from "./number-nfa.ts";
import { ANY_CHAR, parsePattern, type Regex } from "./pattern.ts";
import type { SchemaNode } from "./schema-node.ts";

export interface SchemaNfa {
  nfa: ByteNfa;
  start: number;
  accept: number;
}

export function compileSchemaNfa(node: SchemaNode): SchemaNfa {
  const nfa = new ByteNfa();
  const frag = valuePiece(node)(nfa);
  return { nfa, start: frag.start, accept: frag.end };
}

function valuePiece(node: SchemaNode): Piece {
  switch (node.kind) {
    case "null":
      return literal("null");
    case "boolean":
      return alt(literal("true"), literal("false"));
    case "literal":
      return alt(...node.values.map((v) => literal(JSON.stringify(v))));
    case "number":
      return numberPiece(node);
    case "string":
      return stringPiece(node);
    case "anyOf":
      return alt(...node.options.map(valuePiece));
    case "array":
      return arrayPiece(node);
    case "object":
      return objectPiece(node);
  }
}

function arrayPiece(node: Extract<SchemaNode, { kind: "array" }>): Piece {
  if (node.maxItems === 0) return literal("[]");
  const item = valuePiece(node.items);
  const more = concat(literal(","), item);
  const first = Math.max(node.minItems, 1);
  const items = concat(
    item,
    repeat(more, first - 1, node.maxItems === null ? null : node.maxItems - 1),
  );
  return concat(literal("["), node.minItems === 0 ? optional(items) : items, literal("]"));
}

/**
 * Properties in schema order. Two positions between properties: none written yet, or some (the
 * next one then starts with a comma). A value's fragment is shared by both ways into it.
 */
function objectPiece(node: Extract<SchemaNode, { kind: "object" }>): Piece {
  return (nfa) => {
    const start = nfa.node();
    let none = nfa.node();
    let some = nfa.node();
    const open = literal("{")(nfa);
    nfa.epsilon(start, open.start);
    nfa.epsilon(open.end, none);
    for (const p of node.properties) {
      const key = JSON.stringify(p.name) + ":";
      const value = valuePiece(p.schema)(nfa);
      const first = literal(key)(nfa);
      const later = literal("," + key)(nfa);
      nfa.epsilon(none, first.start);
      nfa.epsilon(first.end, value.start);
      nfa.epsilon(some, later.start);
      nfa.epsilon(later.end, value.start);
      const nextNone = nfa.node();
      const nextSome = nfa.node();
      nfa.epsilon(value.end, nextSome);
      if (!p.required) {
        nfa.epsilon(none, nextNone);
        nfa.epsilon(some, nextSome);
      }
      none = nextNone;
      some = nextSome;
    }
    const end = nfa.node();
    for (const at of [none, some]) {
      const close = literal("}")(nfa);
      nfa.epsilon(at, close.start);
      nfa.epsilon(close.end, end);
    }
    return { start, end };
  };
}

/** Characters JSON must escape: control characters, the quote and the backslash. */
const ESCAPED: CharSet = charSet([
  [0x00, 0x1f],
  [0x22, 0x22],
  [0x5c, 0x5c],
]);

/** One character of `set` inside a JSON string, as JSON.stringify writes it. */
function jsonChar(set: CharSet): Piece {
  const escapes: Piece[] = [];
  for (const [lo, hi] of set)
    for (let cp = Math.max(lo, 0); cp <= Math.min(hi, 0x5c); cp++)
      if (cp < 0x20 || cp === 0x22 || cp === 0x5c)
        escapes.push(literal(JSON.stringify(String.fromCharCode(cp)).slice(1, -1)));
  const plain = subtract(set, ESCAPED);
  const pieces = plain.length > 0 ? [utf8Char(plain), ...escapes] : escapes;
  if (pieces.length === 0) throw new Error("a pattern's character class matches no character");
  return pieces.length === 1 ? pieces[0]! : alt(...pieces);
}

function stringPiece(node: Extract<SchemaNode, { kind: "string" }>): Piece {
  const quote = literal('"');
  if (node.pattern === null)
    return concat(quote, repeat(jsonChar(ANY_CHAR), node.minLength, node.maxLength), quote);
  const anything = repeat(jsonChar(ANY_CHAR), 0, null);
  const options = parsePattern(node.pattern).options.map((o) =>
    concat(
      ...(o.anchoredStart ? [] : [anything]),
      regexPiece(o.regex),
      ...(o.anchoredEnd ? [] : [anything]),
    ),
  );
  return concat(quote, options.length === 1 ? options[0]! : alt(...options), quote);
}

function regexPiece(rx: Regex): Piece {
  switch (rx.t) {
    case "set":
      return jsonChar(rx.set);
    case "seq":
      return concat(...rx.items.map(regexPiece));
    case "alt":
      return alt(...rx.options.map(regexPiece));
    case "repeat":
      return repeat(regexPiece(rx.item), rx.min, rx.max);
  }
}
