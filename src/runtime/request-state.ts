// One request's progress through generation: picks tokens (greedy, seeded sampling, or within
// the choice trie or a schema's automaton), and decides when it ends (eos, stop string, max tokens,
// completed choice, completed value).
import { ChoiceTrie, type ChoiceCursor } from "./choice-trie.ts";
import { guideFor, SchemaCursor } from "./json-schema/token-guide.ts";
import type { TokenVocabulary } from "./json-schema/token-vocabulary.ts";
import { argmax, sampleToken, seededRandom } from "./sampler.ts";
import type { GenerateRequest, GenerateResult, SamplingOptions } from "./types.ts";

export interface TokenText {
  encode(text: string, addSpecialTokens?: boolean): number[];
  decode(ids: readonly number[]): string;
  /** Every token's bytes: what a schema's automaton walks (absent: schemas are refused). */
  vocabulary?(): TokenVocabulary;
}

export function validateRequest(request: GenerateRequest, index: number, vocabSize: number): void {
  const where = `generate request ${index}`;
  const prompt = request?.promptTokens;
  if (!Array.isArray(prompt) || prompt.length === 0)
    throw new Error(
      `${where}: promptTokens must be a non-empty array of token ids (use Model.encodeChat)`,
    );
  for (const id of prompt) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw new Error(`${where}: token id ${id} is outside the vocabulary [0, ${vocabSize})`);
  }
  const s: SamplingOptions | undefined = request.sampling;
  if (!s || !Number.isInteger(s.maxTokens) || s.maxTokens < 1)
    throw new Error(`${where}: sampling.maxTokens must be a positive integer`);
  if (s.temperature !== undefined && !(s.temperature >= 0))
    throw new Error(`${where}: sampling.temperature must be 0 (greedy) or more`);
  if (s.topP !== undefined && !(s.topP > 0 && s.topP <= 1))
    throw new Error(`${where}: sampling.topP must be in (0, 1]`);
  if (
    s.stop !== undefined &&
    (!Array.isArray(s.stop) || s.stop.some((x) => typeof x !== "string" || !x))
  )
    throw new Error(`${where}: sampling.stop must be a list of non-empty strings`);
  if (s.seed !== undefined && !Number.isInteger(s.seed))
    throw new Error(`${where}: sampling.seed must be an integer`);
  if (s.schema !== undefined) {
    if (!s.schema || typeof s.schema !== "object" || Array.isArray(s.schema))
      throw new Error(`${where}: sampling.schema must be a JSON Schema object`);
    if (s.choices !== undefined || s.stop !== undefined)
      throw new Error(`${where}: sampling.schema excludes choices and stop strings`);
  }
}

export class RequestState {
  readonly tokens: number[] = [];
  finishReason: GenerateResult["finishReason"] | undefined;
  text = "";
  private readonly sampling: SamplingOptions;
  private readonly cursor: ChoiceCursor | undefined;
  private readonly schema: SchemaCursor | undefined;
  private readonly random: (() => number) | undefined;
  private readonly eos: ReadonlySet<number>;
  private readonly codec: TokenText;
  private readonly onText: ((text: string) => void) | undefined;
  readonly promptLength: number;

  constructor(request: GenerateRequest, codec: TokenText, eos: ReadonlySet<number>) {
    this.sampling = request.sampling;
    this.onText = request.onText;
    this.codec = codec;
    this.eos = eos;
    this.promptLength = request.promptTokens.length;
    const choices = request.sampling.choices;
    if (choices) this.cursor = new ChoiceTrie(choices, (t) => codec.encode(t, false)).start();
    const schema = request.sampling.schema;
    if (schema) {
      if (!codec.vocabulary) throw new Error("this tokenizer cannot constrain output to a schema");
      this.schema = new SchemaCursor(guideFor(schema, codec.vocabulary()), this.sampling.maxTokens);
    }
    const t = request.sampling.temperature ?? 0;
    if (t > 0) {
      const seed = request.sampling.seed ?? Math.floor(Math.random() * 2 ** 32);
      this.random = seededRandom(seed);
    }
  }

  get done(): boolean {
    return this.finishReason !== undefined;
  }

  /** Chooses the next token from this row's logits ([vocab]). */
  pick(logits: Float32Array): number {
    let allowed: ArrayLike<number> | undefined;
    if (this.schema) {
      allowed = this.schema.allowed(this.sampling.maxTokens - this.tokens.length);
      // a complete value may end here (a number could go on, an object cannot)
      if (this.schema.complete) allowed = [...Array.from(allowed), ...this.eos];
    } else if (this.cursor) {
      const ids = this.cursor.allowed();
      // a complete choice that is also a prefix of a longer one may end here
      if (this.cursor.complete !== undefined) ids.push(...this.eos);
      allowed = ids;
    }
    if (!this.random) return argmax(logits, allowed);
    return sampleToken(
      logits,
      this.sampling.temperature!,
      this.sampling.topP ?? 1,
      this.random,
      allowed,
    );
  }

  /** Records a chosen token; sets finishReason when the request ends. */
  accept(id: number): void {
    this.take(id);
    this.onText?.(this.text);
  }

  private take(id: number): void {
    if (this.eos.has(id)) {
      this.finishReason = this.cursor?.complete !== undefined ? "choice" : "eos";
      if (this.cursor?.complete !== undefined) this.text = this.cursor.complete;
      return;
    }
    this.tokens.push(id);
    if (this.schema) {
      this.schema.advance(id);
      this.text = this.codec.decode(this.tokens);
      // the budget filter in `allowed` guarantees the value is complete at maxTokens
      if (this.schema.finished)
        this.finishReason = "eos"; // ended as if by eos: nothing can follow
      else if (this.tokens.length >= this.sampling.maxTokens) this.finishReason = "length";
      return;
    }
    if (this.cursor) {
      this.cursor.advance(id);
      this.text = this.codec.decode(this.tokens);
      if (this.cursor.finished) {
        this.finishReason = "choice";
        this.text = this.cursor.complete!;
      }
      // a choice is never cut short by maxTokens: its trie depth bounds it already
      return;
    }
    this.text = this.codec.decode(this.tokens);
    const stop = this.sampling.stop;
    if (stop) {
      let cut = -1;
      for (const s of stop) {
        const at = this.text.indexOf(s);
        if (at >= 0 && (cut < 0 || at < cut)) cut = at;
      }
      if (cut >= 0) {
        this.text = this.text.slice(0, cut);
        this.tokens.pop(); // the token that completed the stop string
        this.finishReason = "stop";
        return;
      }
    }
    if (this.tokens.length >= this.sampling.maxTokens) this.finishReason = "length";
  }

  result(): GenerateResult {
    return {
      text: this.text,
      tokens: this.tokens,
      finishReason: this.finishReason ?? "length",
      prefillTokens: this.promptLength,
      cachedTokens: 0,
    };
  }
}
