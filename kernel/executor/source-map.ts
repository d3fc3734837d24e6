// Just enough of Source Map v3 to map esbuild's output back to the cell's TypeScript: decode the
// VLQ "mappings" once, then look up a generated (line, column) -> original (line, column).

export interface Position {
  /** 1-based, as V8 prints them in stack traces. */
  line: number;
  /** 1-based. */
  column: number;
}

// Per generated line: segments [generatedColumn, originalLine, originalColumn], 0-based, sorted.
export type DecodedMap = number[][][];

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

export function decodeMappings(mappings: string): DecodedMap {
  const lines: DecodedMap = [];
  let source = 0;
  let origLine = 0;
  let origCol = 0;
  for (const lineText of mappings.split(";")) {
    const segments: number[][] = [];
    let genCol = 0;
    for (const seg of lineText.split(",")) {
      if (!seg) continue;
      const values = decodeVlq(seg);
      genCol += values[0]!;
      if (values.length >= 4) {
        source += values[1]!;
        origLine += values[2]!;
        origCol += values[3]!;
        segments.push([genCol, origLine, origCol]);
      }
    }
    lines.push(segments);
  }
  void source;
  return lines;
}

function decodeVlq(text: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = DIGIT.get(c);
    if (digit === undefined) break;
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** Maps a generated position to the original one; undefined when the line has no mapping. */
export function originalPosition(map: DecodedMap, pos: Position): Position | undefined {
  const segments = map[pos.line - 1];
  if (!segments || segments.length === 0) return undefined;
  const col = pos.column - 1;
  let best = segments[0]!;
  for (const s of segments) {
    if (s[0]! <= col) best = s;
    else break;
  }
  // Within a segment, columns advance one for one (esbuild keeps tokens of a line together).
  const offset = best[0]! <= col ? col - best[0]! : 0;
  return { line: best[1]! + 1, column: best[2]! + offset + 1 };
}
