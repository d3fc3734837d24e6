// One piece of output that changes while work runs (a progress bar): in a notebook one display
// replaced in place (display with an id, then update: true); on a terminal one line on stderr,
// rewritten with \r when stderr is a TTY and printed every few seconds otherwise (logs and CI keep
// a few lines, not thousands). Rendering is throttled (default 4 per second), so a caller may
// report every event; the view is built only when it is shown.
import type { DisplayHost, MimeBundle } from "./host.ts";
import { getDisplayHost } from "./host.ts";

export interface LiveOutputOptions {
  /** Where rich output goes; default the current display host. */
  host?: DisplayHost;
  /** Terminal output stream; default process.stderr. */
  stream?: Pick<NodeJS.WriteStream, "write"> & { isTTY?: boolean };
  /** Minimum time between two renders; default 250 ms (4 per second). */
  minIntervalMs?: number;
  /** Minimum time between two lines when the stream is not a TTY; default 5000 ms. */
  logIntervalMs?: number;
  /** Clock in ms (tests inject one); default performance.now. */
  now?: () => number;
}

export interface LiveView {
  line: string;
  bundle: MimeBundle;
}

let displayCounter = 0;

export class LiveOutput {
  private readonly host: DisplayHost;
  private readonly stream: NonNullable<LiveOutputOptions["stream"]>;
  private readonly minIntervalMs: number;
  private readonly logIntervalMs: number;
  readonly now: () => number;
  private readonly displayId: string;
  private lastRenderMs = -Infinity;
  private lastLogMs = -Infinity;
  private shown = false;
  private lastLineLength = 0;
  /** Renders so far (tests check throttling with it). */
  renders = 0;

  constructor(options: LiveOutputOptions = {}) {
    this.host = options.host ?? getDisplayHost();
    this.stream = options.stream ?? process.stderr;
    this.minIntervalMs = options.minIntervalMs ?? 250;
    this.logIntervalMs = options.logIntervalMs ?? 5000;
    this.now = options.now ?? (() => performance.now());
    displayCounter += 1;
    this.displayId = `halo-progress-${process.pid}-${displayCounter}`;
  }

  /** Shows the view unless one was shown less than minIntervalMs ago. */
  tick(view: () => LiveView): void {
    const t = this.now();
    if (t - this.lastRenderMs < this.minIntervalMs) return;
    this.lastRenderMs = t;
    this.render(view(), false);
  }

  /** The last view: always shown, never throttled; ends the terminal line. */
  final(view: LiveView): void {
    this.render(view, true);
  }

  private render({ line, bundle }: LiveView, final: boolean): void {
    if (this.host.rich) {
      this.renders += 1;
      if (!this.shown) this.host.display(bundle, { id: this.displayId });
      else this.host.display(bundle, { id: this.displayId, update: true });
      this.shown = true;
      return;
    }
    if (this.stream.isTTY) {
      this.renders += 1;
      // Pad over the previous line's leftovers; \r returns to the line start.
      const padded = line.padEnd(this.lastLineLength);
      this.lastLineLength = line.length;
      this.stream.write(`\r${padded}${final ? "\n" : ""}`);
      return;
    }
    const t = this.now();
    if (!final && t - this.lastLogMs < this.logIntervalMs) return;
    this.lastLogMs = t;
    this.renders += 1;
    this.stream.write(`${line}\n`);
  }
}
