// Per plan node totals while rows flow through it concurrently: the node is "active" from its
// first row's start to its last row's end (rows overlap, so per-row times would not add up).
import type { GenerateResult } from "../../runtime/types.ts";
import type { NodeStats } from "./trace.ts";

export class NodeMeter {
  private rows = 0;
  private calls = 0;
  private prefillTokens = 0;
  private cachedTokens = 0;
  private decodeTokens = 0;
  private firstStart: number | undefined;
  private lastEnd: number | undefined;

  constructor(
    readonly nodeId: number,
    readonly label: string,
    readonly kind: string,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.firstStart ??= this.now();
  }

  end(): void {
    this.lastEnd = this.now();
  }

  addRows(n: number): void {
    this.rows += n;
  }

  /** One call executed (never a row served by a shared answer); an LLM result adds its tokens. */
  addCall(result?: GenerateResult): void {
    this.calls++;
    if (result === undefined) return;
    this.prefillTokens += result.prefillTokens;
    this.cachedTokens += result.cachedTokens;
    this.decodeTokens += result.tokens.length;
  }

  /** Tokens so far (cumulative), for progress. */
  tokens(): { prefill: number; cached: number; decode: number } {
    return { prefill: this.prefillTokens, cached: this.cachedTokens, decode: this.decodeTokens };
  }

  stats(): NodeStats {
    const measured =
      this.firstStart !== undefined && this.lastEnd !== undefined
        ? Math.max(0, this.lastEnd - this.firstStart)
        : 0;
    return {
      nodeId: this.nodeId,
      label: this.label,
      kind: this.kind,
      rows: this.rows,
      calls: this.calls,
      measuredMs: measured,
      prefillTokens: this.prefillTokens,
      cachedTokens: this.cachedTokens,
      decodeTokens: this.decodeTokens,
    };
  }
}
