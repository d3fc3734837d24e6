// Output of callbacks that outlive their cell (`setTimeout(() => console.log("late"), 200)`):
// it goes to the cell executing at that moment, with that cell's parent header, as ipykernel
// does; when no cell is executing it is held here and published at the top of the next
// executed cell. So nothing is lost (clients such as nbclient, `halo run` and the classic
// notebook stop listening for a request after its idle, and drop what comes later) and nothing
// is published outside a busy ... idle. Held output is bounded: a forgotten setInterval must
// not grow the kernel's memory without limit.

export type HeldOutput =
  | { kind: "stream"; name: "stdout" | "stderr"; text: string }
  | { kind: "message"; msgType: string; content: Record<string, unknown> };

/** About 1 MiB of held text or 200 display messages; older output goes first. */
const MAX_HELD_CHARS = 1 << 20;
const MAX_HELD_MESSAGES = 200;

export class LateOutput {
  #held: HeldOutput[] = [];
  #chars = 0;
  #messages = 0;
  #droppedChars = 0;
  #droppedMessages = 0;

  get size(): number {
    return this.#held.length;
  }

  hold(item: HeldOutput): void {
    const last = this.#held[this.#held.length - 1];
    if (item.kind === "stream" && last?.kind === "stream" && last.name === item.name)
      last.text += item.text;
    else this.#held.push(item.kind === "stream" ? { ...item } : item);
    if (item.kind === "stream") this.#chars += item.text.length;
    else this.#messages++;
    // Text is cut once it doubles the bound, not on every write past it: cutting copies the
    // held text, and copying a megabyte per console.log made a 30,000-line burst take 85 s.
    if (this.#chars > 2 * MAX_HELD_CHARS) this.#cutText();
    if (this.#messages > MAX_HELD_MESSAGES) this.#dropMessage();
  }

  /** Hands the held output, oldest first, to `emit` and forgets it. */
  flush(emit: (item: HeldOutput) => void): void {
    this.#cutText();
    const held = this.#held;
    const note = this.#dropNote();
    this.#held = [];
    this.#chars = this.#messages = this.#droppedChars = this.#droppedMessages = 0;
    if (note) emit({ kind: "stream", name: "stderr", text: note });
    for (const item of held) emit(item);
  }

  /** Drops the oldest text down to the bound: the newest lines are what the user wants. */
  #cutText(): void {
    while (this.#chars > MAX_HELD_CHARS) {
      const at = this.#held.findIndex((h) => h.kind === "stream");
      const first = this.#held[at] as Extract<HeldOutput, { kind: "stream" }>;
      const cut = Math.min(first.text.length, this.#chars - MAX_HELD_CHARS);
      first.text = first.text.slice(cut);
      this.#chars -= cut;
      this.#droppedChars += cut;
      if (first.text.length === 0) this.#held.splice(at, 1);
    }
  }

  #dropMessage(): void {
    this.#held.splice(
      this.#held.findIndex((h) => h.kind === "message"),
      1,
    );
    this.#messages--;
    this.#droppedMessages++;
  }

  #dropNote(): string | undefined {
    if (this.#droppedChars === 0 && this.#droppedMessages === 0) return undefined;
    return `[halo: ${this.#droppedChars} characters and ${this.#droppedMessages} display messages of output from earlier cells' callbacks were dropped while no cell ran]\n`;
  }
}
