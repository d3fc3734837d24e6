// Text <-> token ids with the folder's own tokenizer.json (@huggingface/tokenizers, pure JS) and
// its chat template (@huggingface/jinja), so prompts are byte-identical to what the model was
// trained on (models/build renders the same ChatML text in Python; a test compares the two).
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelFolderError, readJsonFile } from "./model-files.ts";
import {
  vocabularyFromTokenizerJson,
  type TokenVocabulary,
} from "./json-schema/token-vocabulary.ts";
import type { ChatMessage } from "./types.ts";

/**
 * The chat template as the folder ships it: `chat_template.jinja` beside the tokenizer (newer
 * exports), else tokenizer_config.json's `chat_template`, a string or a list of named templates
 * (`[{ name: "default", template }, { name: "tool_use", ... }]`: "default" is the chat one).
 */
function chatTemplateText(dir: string, config: Record<string, unknown>): string | undefined {
  const file = join(dir, "chat_template.jinja");
  if (existsSync(file)) return readFileSync(file, "utf8");
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t.filter(
      (x): x is { name: string; template: string } =>
        !!x &&
        typeof x === "object" &&
        typeof x.name === "string" &&
        typeof x.template === "string",
    );
    return (named.find((x) => x.name === "default") ?? named[0])?.template;
  }
  return undefined;
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly template: Template | undefined;
  private readonly specialTokens: Record<string, string>;
  private readonly dir: string;
  /** One past the highest token id the tokenizer can produce. */
  readonly vocabSize: number;
  /** One past the highest id of its learned vocabulary (added/special tokens not counted). */
  private readonly baseVocabSize: number;
  /** Added tokens (specials and the like): id -> text. */
  private readonly addedTokens: Map<number, string>;
  private readonly json: Record<string, unknown>;
  private tokenBytes: TokenVocabulary | undefined;

  constructor(dir: string) {
    this.dir = dir;
    const json = readJsonFile(dir, "tokenizer.json", true, "the tokenizer turns text into ids");
    const config =
      readJsonFile(dir, "tokenizer_config.json", false, "holds the chat template") ?? {};
    this.json = json!;
    try {
      this.tokenizer = new Tokenizer(json!, config);
    } catch (error) {
      throw new ModelFolderError(
        `malformed ${join(dir, "tokenizer.json")}: @huggingface/tokenizers could not load it (${(error as Error).message})`,
      );
    }
    let maxId = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.addedTokens = new Map();
    for (const t of (json!.added_tokens as { id?: unknown; content?: unknown }[] | undefined) ?? [])
      if (typeof t?.id === "number") this.addedTokens.set(t.id, String(t.content));
    const model = json!.model as { vocab?: unknown } | undefined;
    const vocab = model?.vocab;
    // BPE/WordPiece: { token: id }; Unigram: [[token, score], ...] (ids are indices)
    this.baseVocabSize = Array.isArray(vocab)
      ? vocab.length
      : vocab && typeof vocab === "object"
        ? Math.max(-1, ...Object.values(vocab as Record<string, number>)) + 1
        : this.vocabSize;
    this.specialTokens = {};
    for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
      const v = config[key];
      const text =
        typeof v === "string"
          ? v
          : v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string"
            ? (v as { content: string }).content
            : undefined;
      if (text !== undefined) this.specialTokens[key] = text;
    }
    const chatTemplate = chatTemplateText(dir, config);
    if (chatTemplate !== undefined) {
      try {
        this.template = new Template(chatTemplate);
      } catch (error) {
        throw new ModelFolderError(
          `malformed chat template in ${dir} (chat_template.jinja or tokenizer_config.json): ${(error as Error).message}`,
        );
      }
    }
  }

  /**
   * Checks the tokenizer fits a model of `vocabSize` logits. Learned tokens past it mean the
   * tokenizer belongs to another model (an error); added tokens past it only mean those few can
   * never be generated or fed (Gemma 3 ships one such id): a warning.
   */
  checkVocabulary(
    vocabSize: number,
    warn = (line: string) => process.stderr.write(`${line}\n`),
  ): void {
    if (this.baseVocabSize > vocabSize)
      throw new ModelFolderError(
        `vocabulary mismatch: tokenizer.json has token ids up to ${this.baseVocabSize - 1} but config.json says vocab_size ${vocabSize}: the tokenizer belongs to another model`,
      );
    const beyond = [...this.addedTokens].filter(([id]) => id >= vocabSize);
    if (beyond.length > 0)
      warn(
        `halo: ${join(this.dir, "tokenizer.json")} has ${beyond.length} added token(s) at or past vocab_size ${vocabSize} (${beyond
          .slice(0, 3)
          .map(([id, text]) => `${id} ${JSON.stringify(text)}`)
          .join(", ")}): the model cannot produce them, and prompts containing them are rejected`,
      );
  }

  get hasChatTemplate(): boolean {
    return this.template !== undefined;
  }

  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: readonly number[]): string {
    // the library throws on an empty list
    if (ids.length === 0) return "";
    return this.tokenizer.decode(ids as number[], { skip_special_tokens: false });
  }

  /** Every token's bytes and their trie, for schema-constrained decoding (built on first use). */
  vocabulary(): TokenVocabulary {
    this.tokenBytes ??= vocabularyFromTokenizerJson(this.json, this.vocabSize);
    return this.tokenBytes;
  }

  idOf(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  renderChat(messages: ChatMessage[]): string {
    if (!this.template) {
      throw new Error(
        "this model has no chat template (chat_template.jinja or chat_template in tokenizer_config.json): pass raw prompt tokens (Model.encode) instead of chat messages",
      );
    }
    for (const [i, m] of messages.entries()) {
      if (!m || typeof m.content !== "string" || !["system", "user", "assistant"].includes(m.role))
        throw new Error(
          `chat message ${i} is malformed: expected { role: "system" | "user" | "assistant", content: string }`,
        );
    }
    return this.template.render({
      messages,
      add_generation_prompt: true,
      ...this.specialTokens,
    });
  }

  /** Template applied and generation prompt added; specials come from the template text. */
  encodeChat(messages: ChatMessage[]): number[] {
    return this.encode(this.renderChat(messages), false);
  }
}
