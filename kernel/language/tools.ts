// What the handler needs from a language service: completion and inspection over the notebook
// so far (earlier cells that ran) plus the current code.
import type { MimeBundle } from "../protocol/messages.ts";

export interface Completion {
  matches: string[];
  /** UTF-16 offsets into the current code of the text the matches replace. */
  start: number;
  end: number;
  metadata?: Record<string, unknown>;
}

export type Inspection = { found: true; data: MimeBundle } | { found: false };

export interface LanguageTools {
  complete(earlierCells: string[], code: string, cursor: number): Promise<Completion>;
  inspect(
    earlierCells: string[],
    code: string,
    cursor: number,
    detailLevel: number,
  ): Promise<Inspection>;
  /** Does the expensive first-use work now (the kernel calls it when idle). */
  warm?(): Promise<void>;
}
