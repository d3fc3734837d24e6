// Execution history for history_request: tail, range and search (glob), kept for the kernel's
// session. Entries are [session, line, input] or [session, line, [input, output]].

interface Entry {
  line: number;
  input: string;
  output: string | null;
}

export interface HistoryQuery {
  output?: boolean;
  hist_access_type?: string;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

export class History {
  readonly #entries: Entry[] = [];
  /** The kernel's session number (one per kernel process, as ipykernel counts sessions). */
  readonly session = 1;

  record(line: number, input: string): void {
    this.#entries.push({ line, input, output: null });
  }

  setOutput(line: number, output: string): void {
    const e = this.#entries.find((x) => x.line === line);
    if (e) e.output = output;
  }

  query(q: HistoryQuery): unknown[] {
    let found: Entry[];
    switch (q.hist_access_type ?? "tail") {
      case "tail":
        found =
          q.n !== undefined && q.n !== null
            ? this.#entries.slice(-Math.max(0, q.n))
            : [...this.#entries];
        break;
      case "range": {
        // session 0 or negative counts from this session (IPython's convention: 0 is current).
        if (q.session !== undefined && q.session > 0 && q.session !== this.session) return [];
        const start = q.start ?? 0;
        const stop = q.stop ?? Number.MAX_SAFE_INTEGER;
        found = this.#entries.filter((e) => e.line >= start && e.line < stop);
        break;
      }
      case "search": {
        const re = globToRegExp(q.pattern ?? "*");
        found = this.#entries.filter((e) => re.test(e.input));
        if (q.unique) {
          const seen = new Set<string>();
          found = found
            .reverse()
            .filter((e) => !seen.has(e.input) && seen.add(e.input) !== undefined)
            .reverse();
        }
        if (q.n !== undefined && q.n !== null) found = found.slice(-Math.max(0, q.n));
        break;
      }
      default:
        return [];
    }
    return found.map((e) => [this.session, e.line, q.output ? [e.input, e.output] : e.input]);
  }
}

function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) =>
      c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${body}$`);
}
