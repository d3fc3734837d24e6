// Refuses a correctly signed message seen before: whoever can read the wire (another user on a
// shared host with a sniffed tcp port) could otherwise replay an execute_request byte for byte
// and run its code again without knowing the key. As jupyter_client's Session does, the kernel
// keeps the signatures of recent messages; an HMAC names its message, so an equal signature is
// the same message. Bounded: the oldest are forgotten first.
export class ReplayGuard {
  readonly #seen = new Set<string>();

  /** 2^16, jupyter_client's digest_history_size: at most ~6 MB of 64-char hex signatures. */
  constructor(readonly capacity = 65_536) {}

  /** True the first time a signature arrives, false for a replay. */
  admit(signature: string): boolean {
    if (this.#seen.has(signature)) return false;
    this.#seen.add(signature);
    // A Set iterates in insertion order: its first entry is the oldest.
    if (this.#seen.size > this.capacity) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
