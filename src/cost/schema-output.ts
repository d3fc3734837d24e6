// A schema answer's expected length before any has run: a typical instance of the schema as
// compact JSON, whose tokens the model's tokenizer counts (cost-model.ts). The schema automaton
// (src/runtime/json-schema/) makes the model write a value of exactly this shape; what varies is
// the free parts. Measured on the shipped model (12 rows each, an untrained model's noise):
// strings run to their maxLength (35-41 tokens of a 40-character string), numbers to their
// bounds' width, objects hold their properties. So: every property, a string at its maxLength
// (the median enum value when enumerated), the wider bound of a number, maxItems items. A part
// with no bound (a string without maxLength, an array without maxItems) gives undefined: then
// only maxTokens bounds the answer.

type Schema = Record<string, unknown>;

/** A typical instance of the schema as compact JSON, or undefined when a part is unbounded. */
export function typicalJson(schema: Schema): string | undefined {
  try {
    return JSON.stringify(typical(schema, 0));
  } catch {
    return undefined;
  }
}

const UNBOUNDED = new Error("unbounded");
const FILLER = "order 42: late, box ok; ";

function typical(s: Schema, depth: number): unknown {
  if (depth > 16) throw UNBOUNDED;
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) {
    const sorted = [...s.enum].sort((a, b) => JSON.stringify(a).length - JSON.stringify(b).length);
    return sorted[sorted.length >> 1];
  }
  const variants = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) {
    // The longest variant: the estimate is for budgets, and a short one would undercount.
    let best: unknown = null;
    for (const v of variants) {
      const t = typical(v, depth + 1);
      if (JSON.stringify(t).length > JSON.stringify(best).length) best = t;
    }
    return best;
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "object": {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, typical(v, depth + 1)]));
    }
    case "array": {
      if (typeof s.maxItems !== "number") throw UNBOUNDED;
      const item = typical((s.items ?? {}) as Schema, depth + 1);
      return Array.from({ length: s.maxItems }, () => item);
    }
    case "string":
      if (typeof s.maxLength !== "number") throw UNBOUNDED;
      // Filler of words, digits and punctuation, as the model writes: its tokenizer merges
      // them as it merges an answer (a run of one letter counted 27% over on a 40-character
      // string; plain words 25% under; this 3% under).
      return FILLER.repeat(Math.ceil(s.maxLength / FILLER.length)).slice(0, s.maxLength);
    case "integer":
    case "number": {
      const bounds = [s.minimum, s.maximum].filter((b): b is number => typeof b === "number");
      if (bounds.length === 0) return type === "integer" ? 100 : 0.5;
      return bounds.sort((a, b) => String(b).length - String(a).length)[0];
    }
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      throw UNBOUNDED;
  }
}
