// The regular expressions a string schema's `pattern` may use, parsed into character sets and
// their combinations so schema-nfa.ts can build them into the automaton. JSON Schema patterns
// are ECMAScript regexes tested with the "u" flag (as ajv does) and unanchored unless `^`/`$`
// say so. Supported: literals, `.`, classes `[...]` / `[^...]` with ranges, escapes \d \D \w \W
// \s \S \t \n \r \f \v \0 \xHH \uHHHH \u{H...} and escaped punctuation, groups `(...)`, `(?:...)`,
// `(?<name>...)`, alternation `|`, quantifiers * + ? {n} {n,} {n,m} (lazy forms match the same
// strings), `^` at the start and `$` at the end. Refused, naming the feature: lookaround,
// backreferences, word boundaries, anchors elsewhere, unicode property escapes \p{...}.
import { charSet, complement, MAX_CODE_POINT, type CharSet } from "./byte-nfa.ts";

export type Regex =
  | { t: "set"; set: CharSet }
  | { t: "seq"; items: Regex[] }
  | { t: "alt"; options: Regex[] }
  | { t: "repeat"; item: Regex; min: number; max: number | null };

/** A top-level pattern: its alternatives, each with whether it is anchored at either end. */
export interface ParsedPattern {
  options: { regex: Regex; anchoredStart: boolean; anchoredEnd: boolean }[];
}

export const ANY_CHAR: CharSet = [[0, MAX_CODE_POINT]];
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = charSet([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
// ECMAScript WhiteSpace and LineTerminator
const SPACE: CharSet = charSet([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
const LINE_TERMINATORS: CharSet = charSet([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);
const MAX_PATTERN_REPEAT = 1000;

export class PatternError extends Error {}

export function parsePattern(source: string): ParsedPattern {
  const parser = new Parser(source);
  const top = parser.alternatives();
  if (parser.at < source.length) parser.fail(`unexpected "${source[parser.at]}"`);
  return { options: top };
}

class Parser {
  at = 0;
  private readonly chars: string[];

  constructor(private readonly source: string) {
    this.chars = [...source];
  }

  fail(message: string): never {
    throw new PatternError(`pattern ${JSON.stringify(this.source)}: ${message}`);
  }

  private peek(): string | undefined {
    return this.chars[this.at];
  }

  alternatives(): ParsedPattern["options"] {
    const options: ParsedPattern["options"] = [];
    for (;;) {
      let anchoredStart = false;
      if (this.peek() === "^") {
        anchoredStart = true;
        this.at++;
      }
      const items = this.sequence(true);
      let anchoredEnd = false;
      if (this.peek() === "$") {
        anchoredEnd = true;
        this.at++;
      }
      options.push({ regex: { t: "seq", items }, anchoredStart, anchoredEnd });
      if (this.peek() !== "|") break;
      this.at++;
    }
    return options;
  }

  private group(): Regex {
    const options: Regex[] = [];
    for (;;) {
      options.push({ t: "seq", items: this.sequence(false) });
      if (this.peek() !== "|") break;
      this.at++;
    }
    return options.length === 1 ? options[0]! : { t: "alt", options };
  }

  private sequence(top: boolean): Regex[] {
    const items: Regex[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") return items;
      if (c === "$") {
        if (top && (this.chars[this.at + 1] === undefined || this.chars[this.at + 1] === "|"))
          return items;
        this.fail("`$` is supported only at the end of the pattern");
      }
      if (c === "^") this.fail("`^` is supported only at the start of the pattern");
      let atom = this.atom();
      atom = this.quantified(atom);
      items.push(atom);
    }
  }

  private quantified(atom: Regex): Regex {
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number | null;
      if (c === "*") [min, max] = [0, null];
      else if (c === "+") [min, max] = [1, null];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.chars.slice(this.at).join(""));
        if (!m) this.fail("`{` must start a quantifier {n}, {n,} or {n,m} (escape it as \\{)");
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? null : Number(m[3]);
        if (max !== null && max < min) this.fail(`quantifier {${min},${max}} is out of order`);
        if (Math.max(min, max ?? 0) > MAX_PATTERN_REPEAT)
          this.fail(`quantifier counts above ${MAX_PATTERN_REPEAT} are not supported`);
        this.at += [...m[0]].length - 1;
      } else return atom;
      this.at++;
      if (this.peek() === "?") this.at++; // lazy: the same strings match
      atom = { t: "repeat", item: atom, min, max };
    }
  }

  private atom(): Regex {
    const c = this.chars[this.at++]!;
    switch (c) {
      case "(": {
        if (this.peek() === "?") {
          const next = this.chars[this.at + 1];
          if (next === ":") this.at += 2;
          else if (next === "<" && /[A-Za-z_$]/.test(this.chars[this.at + 2] ?? "")) {
            const close = this.chars.indexOf(">", this.at);
            if (close < 0) this.fail("unterminated group name");
            this.at = close + 1;
          } else this.fail("lookaround assertions (?=, ?!, ?<=, ?<!) are not supported");
        }
        const inner = this.group();
        if (this.peek() !== ")") this.fail("missing `)`");
        this.at++;
        return inner;
      }
      case ")":
        return this.fail("unmatched `)`");
      case "[":
        return { t: "set", set: this.charClass() };
      case ".":
        return { t: "set", set: complement(LINE_TERMINATORS) };
      case "\\":
        return { t: "set", set: this.escape(false) };
      case "*":
      case "+":
      case "?":
        return this.fail(`nothing to repeat before "${c}"`);
      default: {
        const cp = c.codePointAt(0)!;
        return { t: "set", set: [[cp, cp]] };
      }
    }
  }

  private charClass(): CharSet {
    let negate = false;
    if (this.peek() === "^") {
      negate = true;
      this.at++;
    }
    const ranges: [number, number][] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail("missing `]`");
      if (c === "]" && !first) break;
      first = false;
      const lo = this.classAtom();
      if (
        this.peek() === "-" &&
        this.chars[this.at + 1] !== "]" &&
        this.chars[this.at + 1] !== undefined
      ) {
        this.at++;
        const hi = this.classAtom();
        if (
          lo.length !== 1 ||
          hi.length !== 1 ||
          lo[0]![0] !== lo[0]![1] ||
          hi[0]![0] !== hi[0]![1]
        )
          this.fail("a range in a class needs single characters at both ends");
        if (hi[0]![0] < lo[0]![0]) this.fail("a class range is out of order");
        ranges.push([lo[0]![0], hi[0]![0]]);
      } else ranges.push(...lo);
    }
    this.at++;
    const set = charSet(ranges);
    return negate ? complement(set) : set;
  }

  private classAtom(): CharSet {
    const c = this.chars[this.at++]!;
    if (c === "\\") return this.escape(true);
    const cp = c.codePointAt(0)!;
    return [[cp, cp]];
  }

  private escape(inClass: boolean): CharSet {
    const c = this.chars[this.at++];
    if (c === undefined) this.fail("a pattern cannot end in `\\`");
    const one = (cp: number): CharSet => [[cp, cp]];
    switch (c) {
      case "d":
        return DIGIT;
      case "D":
        return complement(DIGIT);
      case "w":
        return WORD;
      case "W":
        return complement(WORD);
      case "s":
        return SPACE;
      case "S":
        return complement(SPACE);
      case "t":
        return one(9);
      case "n":
        return one(10);
      case "v":
        return one(11);
      case "f":
        return one(12);
      case "r":
        return one(13);
      case "0":
        if (/\d/.test(this.peek() ?? "")) this.fail("octal escapes are not supported");
        return one(0);
      case "b":
        if (inClass) return one(8);
        return this.fail("word boundaries (\\b) are not supported");
      case "B":
        return this.fail("word boundaries (\\B) are not supported");
      case "x":
        return one(this.hex(2));
      case "u": {
        if (this.peek() === "{") {
          const close = this.chars.indexOf("}", this.at);
          const digits = this.chars.slice(this.at + 1, close).join("");
          if (close < 0 || !/^[0-9a-fA-F]{1,6}$/.test(digits)) this.fail("malformed \\u{...}");
          this.at = close + 1;
          return one(parseInt(digits, 16));
        }
        return one(this.hex(4));
      }
      case "p":
      case "P":
        return this.fail("unicode property escapes (\\p{...}) are not supported");
      case "k":
        return this.fail("backreferences are not supported");
      default:
        if (/[1-9]/.test(c)) this.fail("backreferences are not supported");
        if (/[A-Za-z0-9]/.test(c)) this.fail(`unknown escape \\${c}`);
        return one(c.codePointAt(0)!);
    }
  }

  private hex(n: number): number {
    const digits = this.chars.slice(this.at, this.at + n).join("");
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) this.fail("malformed hex escape");
    this.at += n;
    return parseInt(digits, 16);
  }
}
