// What of an answer's text may be streamed yet. The text so far can still change at its end: a
// stop string that is only partly there may complete and be cut, a multi-byte character split
// across tokens decodes as U+FFFD until its last byte arrives, and a choice is only final once
// complete. So each delta sends the text up to the last point that cannot change, and `finish`
// sends the rest: the deltas always add up to the whole answer.
export class TextDeltas {
  private sent = "";

  constructor(
    private readonly stop: readonly string[] = [],
    /** A choice's text is held back until the answer ends. */
    private readonly holdAll = false,
  ) {}

  /** The new text that is safe to send now ("" when none). */
  next(text: string): string {
    if (this.holdAll || !text.startsWith(this.sent)) return "";
    const safe = this.safeLength(text);
    if (safe <= this.sent.length) return "";
    const delta = text.slice(this.sent.length, safe);
    this.sent = text.slice(0, safe);
    return delta;
  }

  /** The rest of the final text. */
  finish(text: string): string {
    // Never happens with the runtime's decoding (its text only grows at the end); if it ever
    // did, what was sent stands and the rest is what follows it.
    const delta = text.startsWith(this.sent) ? text.slice(this.sent.length) : "";
    this.sent = text;
    return delta;
  }

  private safeLength(text: string): number {
    let safe = text.length;
    while (safe > 0 && text[safe - 1] === "\uFFFD") safe--;
    // a lone high surrogate: its pair is still to come
    if (safe > 0 && /[\uD800-\uDBFF]/.test(text[safe - 1]!)) safe--;
    let held = 0;
    for (const s of this.stop)
      for (let k = Math.min(s.length - 1, safe); k > held; k--)
        if (text.endsWith(s.slice(0, k), safe)) {
          held = k;
          break;
        }
    return safe - held;
  }
}
