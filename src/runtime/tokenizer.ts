// Text <-> token ids with the folder's own tokenizer.json (@huggingface/tokenizers, pure JS) and
// its chat template (@huggingface/jinja), so prompts are byte-identical to what the model was
// trained on (models/build renders the same ChatML text in Python; a test compares the two).
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { join } from "node:path";
import { ModelFolderError, readJsonFile } from "./model-files.ts";
import {
  vocabularyFromTokenizerJson,
  type TokenVocabulary,
} from "./json-schema/token-vocabulary.ts";
import type { ChatMessage } from "./types.ts";

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly template: Template | undefined;
  private readonly specialTokens: Record<string, string>;
  /** One past the highest token id the tokenizer can produce. */
  readonly vocabSize: number;
  private readonly json: Record<string, unknown>;
  private tokenBytes: TokenVocabulary | undefined;

  constructor(dir: string) {
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
    const chatTemplate = config.chat_template;
    if (typeof chatTemplate === "string") {
      try {
        this.template = new Template(chatTemplate);
      } catch (error) {
        throw new ModelFolderError(
          `malformed chat_template in ${join(dir, "tokenizer_config.json")}: ${(error as Error).message}`,
        );
      }
    }
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
        "this model has no chat_template in tokenizer_config.json: pass raw prompt tokens (Model.encode) instead of chat messages",
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
