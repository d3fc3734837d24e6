// Prompt phrasings, kept in one place and copied verbatim from the shipped model's training
// templates (models/README.md, "Prompt phrasings the model was trained on"): outside them the
// tiny model answers with confident nonsense. Instruction first, row data last: every row's
// prompt then shares the instruction as a token prefix (runtime notes, "Put the instruction
// first"), which is what a prefix cache feeds on.

/** The `sentiment` task (the node also sets `choices: SENTIMENT_CHOICES`). */
export const SENTIMENT_PROMPT =
  "Classify the sentiment of this review as positive, negative or neutral.\nReview: {{review}}";
export const SENTIMENT_CHOICES = ["positive", "negative", "neutral"];
/** The `summarize` task. */
export const SUMMARY_PROMPT = "Summarize the review in a few words.\nReview: {{review}}";

/** A few reviews in the training generator's style, for small runs of the prompts above. */
export const SAMPLE_REVIEWS = [
  "Great kettle, works perfectly. I love it.",
  "Terrible shoes, they broke after a week.",
  "The blender is okay. It does the job.",
  "Excellent book, I read it twice.",
  "The lamp arrived broken and support never answered.",
  "Nice toy, my kids play with it every day.",
];

/** The `extract` task: "Extract the {field} from this record.\nRecord: ...". */
export function extract(field: string, source: string): string {
  return `Extract the ${field} from this record.\nRecord: ${source}`;
}

/** The `keyword` task: the topic word of a question. */
export function keyword(question: string): string {
  return `Pick the main keyword of this question.\nQuestion: ${question}`;
}

/** The `qa` task: question answering from a context. */
export function answer(context: string, question: string): string {
  return `Answer the question using the context.\nContext: ${context}\nQuestion: ${question}`;
}

/** Labelling with a closed set of choices (the node also sets `choices`), as the `category` task. */
export function label(what: string, choices: readonly string[], source: string): string {
  return `Which ${what} does this belong to? Answer with one of: ${choices.join(", ")}.\nProduct: ${source}`;
}

/** The `merge` task: several notes into one sentence (notes separated by " | "). */
export function summarise(notes: string): string {
  return `Merge these summaries into one sentence.\nSummaries: ${notes}`;
}

/** The `rewrite` task: a text as a short search query. */
export function rewrite(source: string): string {
  return `Rewrite the question as a short search query.\nQuestion: ${source}`;
}

export const SYSTEM_ANALYST = "You are a careful data analyst. Answer briefly.";
