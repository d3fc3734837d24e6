// Prompt phrasings, kept in one place so they can follow the shipped model's training templates
// (models/README.md on the runtime branch lists them once it lands; until then these follow the
// task families the notes say the tiny model learns: field extraction, question answering from a
// context, labelling with fixed choices, summarising). Instruction first, row data last: every
// row's prompt then shares the instruction as a token prefix (runtime notes, "Put the
// instruction first").

/** Field extraction: "Extract the <field> from the text." */
export function extract(field: string, source: string): string {
  return `Extract the ${field} from the text. Answer with the ${field} only.\nText: ${source}`;
}

/** Question answering from a context. */
export function answer(context: string, question: string): string {
  return `Answer the question using the context.\nContext: ${context}\nQuestion: ${question}`;
}

/** Labelling with a closed set of choices (the node also sets `choices`). */
export function label(what: string, choices: readonly string[], source: string): string {
  return `Label the ${what} as one of: ${choices.join(", ")}.\nText: ${source}`;
}

/** Summarising several notes into one short answer. */
export function summarise(notes: string): string {
  return `Summarise the notes in one sentence.\nNotes: ${notes}`;
}

/** Rewriting an answer for a reader. */
export function rewrite(source: string): string {
  return `Rewrite the answer as one short, clear sentence.\nAnswer: ${source}`;
}

export const SYSTEM_ANALYST = "You are a careful data analyst. Answer briefly.";
