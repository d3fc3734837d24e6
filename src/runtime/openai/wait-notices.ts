// Waits that remote servers impose right now (a rate limit's window, a 429's Retry-After), posted
// by halo.openai's limiters and read by collect()'s progress bar, so a run that seems stuck says
// what it waits for and how long. Process-wide, like the models that post them.

export interface WaitNotice {
  /** Who waits and why, e.g. "rpm 60 at 127.0.0.1:8000". */
  label: string;
  /** performance.now() at which the wait ends. */
  untilMs: number;
}

const notices = new Map<string, WaitNotice>();
const listeners = new Set<() => void>();

/** Posts (or, with undefined, withdraws) the wait of `key` (one per server and model). */
export function postWait(key: string, notice: WaitNotice | undefined): void {
  if (notice) notices.set(key, notice);
  else if (!notices.delete(key)) return;
  for (const fn of listeners) fn();
}

export function currentWaits(): WaitNotice[] {
  return [...notices.values()];
}

/** Calls `fn` whenever a wait is posted or withdrawn; returns the unsubscribe. */
export function onWaitsChanged(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
