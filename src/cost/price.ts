// What a remote model's tokens cost, as the user states it (`halo.openai({ price })`), and the
// dollars of a token count. Prices are US dollars per million tokens, the unit provider price
// lists use. Prompt tokens a server answers from its prefix cache are billed at
// `cachedInputPer1M` when given (OpenAI bills cached input at a discount), else at the full
// input price: a budget must not count on a discount the server may not give.

export interface ModelPrice {
  inputPer1M: number;
  outputPer1M: number;
  /** Prompt tokens the server answers from its prefix cache; default `inputPer1M`. */
  cachedInputPer1M?: number;
}

export interface TokenCounts {
  /** Prompt tokens, cached ones included. */
  prompt: number;
  /** Of `prompt`, those expected from (or answered by) the prefix cache. */
  cached: number;
  decode: number;
}

/** Dollars for these tokens at this price. */
export function usdOf(price: ModelPrice, tokens: TokenCounts): number {
  const cached = Math.min(tokens.cached, tokens.prompt);
  return (
    ((tokens.prompt - cached) * price.inputPer1M +
      cached * (price.cachedInputPer1M ?? price.inputPer1M) +
      tokens.decode * price.outputPer1M) /
    1e6
  );
}

const FIELDS = ["inputPer1M", "outputPer1M", "cachedInputPer1M"] as const;

/** The price checked: an object of finite dollars >= 0; a bad field is named with its value. */
export function checkPrice(value: unknown, where: string): ModelPrice {
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(
      `${where}: price must be an object such as { inputPer1M: 0.15, outputPer1M: 0.6 } (US dollars per million tokens), got ${JSON.stringify(value)}`,
    );
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!(FIELDS as readonly string[]).includes(k))
      throw new TypeError(
        `${where}: price.${k} is not a price field (known: ${FIELDS.join(", ")})`,
      );
  for (const k of FIELDS) {
    const v = o[k];
    if (v === undefined && k === "cachedInputPer1M") continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new TypeError(
        `${where}: price.${k} must be a number of US dollars per million tokens >= 0, got ${v === undefined ? "nothing" : JSON.stringify(v)}`,
      );
  }
  return {
    inputPer1M: o.inputPer1M as number,
    outputPer1M: o.outputPer1M as number,
    ...(o.cachedInputPer1M !== undefined && { cachedInputPer1M: o.cachedInputPer1M as number }),
  };
}
