// Human-readable numbers shared by progress lines, tables, drawings and chart captions.

/** 950 ms, 1.25 s, 2 min 05 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - m * 60)).padStart(2, "0")} s`;
}

/** 950, 12.3k, 4.56M: compact counts for tight spaces. */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return "?";
  const a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(1);
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 2 : 1)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

/** 1,234,567: exact counts with thousands separators, independent of the host locale. */
export function formatCount(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 0.873 -> "87%" */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return "–";
  return `${Math.round(fraction * 100)}%`;
}

/** 512 B, 3.4 MB, 1.25 GB (decimal units, as download sizes are quoted). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "?";
  if (n < 1000) return `${Math.round(n)} B`;
  const [v, unit] = n < 1e6 ? [n / 1e3, "kB"] : n < 1e9 ? [n / 1e6, "MB"] : [n / 1e9, "GB"];
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)} ${unit}`;
}
