// What `GET /metrics` reports, in Prometheus' text exposition format (version 0.0.4): counters
// end in `_total`, the latency summary gives quantiles over the last `window` queries plus a
// running sum and count, gauges are read when scraped. Kept in one object per server; sessions
// and routes call `record*` as things happen.

export type QueryOutcome = "ok" | "failed" | "timeout";

interface WorkflowCounters {
  queries: Record<QueryOutcome, number>;
  batches: number;
  batchQueries: number;
  maxBatch: number;
  lastBatch: number;
  prefillTokens: number;
  cachedTokens: number;
  toolCalls: number;
  /** Latencies (ms) of the last `window` queries, oldest first. */
  latencies: number[];
  latencySumMs: number;
  latencyCount: number;
  /** Finish times (ms, performance.now) of the last queries, for throughput. */
  finishedAt: number[];
}

export class ServerMetrics {
  private readonly workflows = new Map<string, WorkflowCounters>();
  private readonly http = new Map<string, number>();
  private completions = 0;
  private readonly started = performance.now();

  constructor(
    /** Queries a latency percentile is computed over. */
    private readonly window = 1_000,
    /** Seconds throughput is averaged over. */
    private readonly rateSeconds = 60,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private counters(workflow: string): WorkflowCounters {
    let c = this.workflows.get(workflow);
    if (!c) {
      c = {
        queries: { ok: 0, failed: 0, timeout: 0 },
        batches: 0,
        batchQueries: 0,
        maxBatch: 0,
        lastBatch: 0,
        prefillTokens: 0,
        cachedTokens: 0,
        toolCalls: 0,
        latencies: [],
        latencySumMs: 0,
        latencyCount: 0,
        finishedAt: [],
      };
      this.workflows.set(workflow, c);
    }
    return c;
  }

  recordQuery(workflow: string, outcome: QueryOutcome, latencyMs: number): void {
    const c = this.counters(workflow);
    c.queries[outcome]++;
    c.latencies.push(latencyMs);
    if (c.latencies.length > this.window) c.latencies.shift();
    c.latencySumMs += latencyMs;
    c.latencyCount++;
    const t = this.now();
    c.finishedAt.push(t);
    while (c.finishedAt.length > 0 && c.finishedAt[0]! < t - this.rateSeconds * 1000)
      c.finishedAt.shift();
  }

  recordBatch(
    workflow: string,
    size: number,
    tokens: { prefill: number; cached: number },
    toolCalls: number,
  ): void {
    const c = this.counters(workflow);
    c.batches++;
    c.batchQueries += size;
    c.lastBatch = size;
    c.maxBatch = Math.max(c.maxBatch, size);
    c.prefillTokens += tokens.prefill;
    c.cachedTokens += tokens.cached;
    c.toolCalls += toolCalls;
  }

  recordHttp(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    this.http.set(key, (this.http.get(key) ?? 0) + 1);
  }

  recordCompletion(): void {
    this.completions++;
  }

  /** Queries finished per second over the last `rateSeconds` (or since start, if sooner). */
  throughput(workflow: string): number {
    const c = this.workflows.get(workflow);
    if (!c || c.finishedAt.length === 0) return 0;
    const span = Math.min(this.rateSeconds, (this.now() - this.started) / 1000);
    return span > 0 ? c.finishedAt.length / span : 0;
  }

  /** Latency quantile (ms) over the window; undefined before any query. */
  latency(workflow: string, q: number): number | undefined {
    const c = this.workflows.get(workflow);
    if (!c || c.latencies.length === 0) return undefined;
    const sorted = [...c.latencies].sort((a, b) => a - b);
    // Nearest rank: the smallest value with at least q of the window at or below it.
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  }

  /** The text format. `queued` gives each workflow's queue length at scrape time. */
  prometheus(queued: Map<string, { queued: number; running: number }>): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, samples: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
    };
    const names = [...new Set([...this.workflows.keys(), ...queued.keys()])].sort();
    const label = (w: string) => `workflow="${escapeLabel(w)}"`;
    const each = (f: (w: string, c: WorkflowCounters) => string[]) =>
      names.flatMap((w) => f(w, this.counters(w)));

    metric(
      "halo_queue_length",
      "gauge",
      "Queries waiting for a mini-batch.",
      names.map((w) => `halo_queue_length{${label(w)}} ${queued.get(w)?.queued ?? 0}`),
    );
    metric(
      "halo_queries_running",
      "gauge",
      "Queries in the mini-batch now running.",
      names.map((w) => `halo_queries_running{${label(w)}} ${queued.get(w)?.running ?? 0}`),
    );
    metric(
      "halo_queries_total",
      "counter",
      "Queries answered, by outcome.",
      each((w, c) =>
        (["ok", "failed", "timeout"] as const).map(
          (o) => `halo_queries_total{${label(w)},outcome="${o}"} ${c.queries[o]}`,
        ),
      ),
    );
    metric(
      "halo_batches_total",
      "counter",
      "Mini-batches run.",
      each((w, c) => [`halo_batches_total{${label(w)}} ${c.batches}`]),
    );
    metric(
      "halo_batch_queries_total",
      "counter",
      "Queries over all mini-batches (divide by halo_batches_total for the mean batch size).",
      each((w, c) => [`halo_batch_queries_total{${label(w)}} ${c.batchQueries}`]),
    );
    metric(
      "halo_batch_size_last",
      "gauge",
      "Queries in the last mini-batch.",
      each((w, c) => [`halo_batch_size_last{${label(w)}} ${c.lastBatch}`]),
    );
    metric(
      "halo_batch_size_max",
      "gauge",
      "Largest mini-batch so far.",
      each((w, c) => [`halo_batch_size_max{${label(w)}} ${c.maxBatch}`]),
    );
    metric(
      "halo_prompt_tokens_total",
      "counter",
      "Prompt tokens, by whether their KV came from the prefix cache or was computed.",
      each((w, c) => [
        `halo_prompt_tokens_total{${label(w)},source="cache"} ${c.cachedTokens}`,
        `halo_prompt_tokens_total{${label(w)},source="prefill"} ${c.prefillTokens}`,
      ]),
    );
    metric(
      "halo_prefix_cache_hit_ratio",
      "gauge",
      "Share of prompt tokens served from the prefix cache since start.",
      each((w, c) => {
        const all = c.cachedTokens + c.prefillTokens;
        return [`halo_prefix_cache_hit_ratio{${label(w)}} ${all ? c.cachedTokens / all : 0}`];
      }),
    );
    metric(
      "halo_tool_calls_total",
      "counter",
      "SQL, HTTP and function calls executed (cache hits not counted).",
      each((w, c) => [`halo_tool_calls_total{${label(w)}} ${c.toolCalls}`]),
    );
    metric(
      "halo_throughput_queries_per_second",
      "gauge",
      `Queries finished per second over the last ${this.rateSeconds} s.`,
      names.map((w) => `halo_throughput_queries_per_second{${label(w)}} ${this.throughput(w)}`),
    );
    metric(
      "halo_query_latency_seconds",
      "summary",
      `Time from a query's arrival to its answer (quantiles over the last ${this.window} queries).`,
      each((w, c) => [
        ...[0.5, 0.9, 0.99].map((q) => {
          const v = this.latency(w, q);
          return `halo_query_latency_seconds{${label(w)},quantile="${q}"} ${v === undefined ? "NaN" : v / 1000}`;
        }),
        `halo_query_latency_seconds_sum{${label(w)}} ${c.latencySumMs / 1000}`,
        `halo_query_latency_seconds_count{${label(w)}} ${c.latencyCount}`,
      ]),
    );
    metric("halo_completions_total", "counter", "OpenAI chat and text completions answered.", [
      `halo_completions_total ${this.completions}`,
    ]);
    metric(
      "halo_http_requests_total",
      "counter",
      "HTTP requests, by route and status.",
      [...this.http.entries()].map(([key, n]) => {
        const [route, status] = key.split("\u0000");
        return `halo_http_requests_total{route="${escapeLabel(route!)}",status="${status}"} ${n}`;
      }),
    );
    return out.join("\n") + "\n";
  }
}

/** Label values escape backslash, double quote and newline (the exposition format's rule). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
