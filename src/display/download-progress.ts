// Progress of a model download: a bar in the notebook, a line on the terminal (live-output.ts),
// shown only once bytes actually move, so resolving a cached model prints nothing.
//   "model org/name: onnx/model_q4.onnx · file 3/5 · 120 MB / 480 MB (25%) · 12.3 MB/s · ~29 s left"
import type { MimeBundle } from "./host.ts";
import { escapeHtml } from "./html.ts";
import { formatBytes, formatMs, formatPercent } from "./format.ts";
import { LiveOutput, type LiveOutputOptions } from "./live-output.ts";

/** The numbers a download reports (the hub client's DownloadProgress has these fields). */
export interface DownloadState {
  file: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export type DownloadOutcome = "done" | "failed";

export interface DownloadProgressHandle {
  update(state: DownloadState): void;
  finish(outcome: DownloadOutcome): void;
}

interface View {
  label: string;
  state: DownloadState;
  elapsedMs: number;
  outcome?: DownloadOutcome;
}

export function downloadLine(v: View): string {
  const { state: s } = v;
  const frac = s.bytesTotal > 0 ? Math.min(1, s.bytesDone / s.bytesTotal) : 0;
  const rate = v.elapsedMs > 0 ? (s.bytesDone * 1000) / v.elapsedMs : 0;
  const parts = [
    `${v.label}: ${v.outcome ? (v.outcome === "done" ? "downloaded" : "download failed") : s.file}`,
    `file ${Math.min(s.filesDone + (v.outcome ? 0 : 1), s.filesTotal)}/${s.filesTotal}`,
    `${formatBytes(s.bytesDone)} / ${formatBytes(s.bytesTotal)} (${formatPercent(frac)})`,
  ];
  if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
  parts.push(
    v.outcome
      ? `in ${formatMs(v.elapsedMs)}`
      : rate > 0
        ? `~${formatMs(((s.bytesTotal - s.bytesDone) * 1000) / rate)} left`
        : formatMs(v.elapsedMs),
  );
  return parts.join(" · ");
}

export function downloadBundle(v: View): MimeBundle {
  const s = v.state;
  const frac = s.bytesTotal > 0 ? Math.min(1, s.bytesDone / s.bytesTotal) : 0;
  const colour = v.outcome === "failed" ? "#e15759" : v.outcome ? "#59a14f" : "#4e79a7";
  const html =
    `<div class="halo-progress" style="font-family:sans-serif;font-size:12px;max-width:760px">` +
    `<div style="font-weight:bold;margin-bottom:3px">${escapeHtml(v.label)}</div>` +
    `<div style="background:#e6e6e6;border-radius:3px;height:10px;overflow:hidden">` +
    `<div style="background:${colour};width:${(frac * 100).toFixed(1)}%;height:10px"></div></div>` +
    `<div style="margin-top:4px">${escapeHtml(downloadLine(v))}</div></div>`;
  return { "text/html": html, "text/plain": downloadLine(v) };
}

/** A progress display for one model's download; nothing appears until `update` is called. */
export function startDownloadProgress(
  label: string,
  options: LiveOutputOptions = {},
): DownloadProgressHandle {
  let out: LiveOutput | undefined;
  let startMs = 0;
  let last: DownloadState | undefined;
  const view = (outcome?: DownloadOutcome) => {
    const v: View = { label, state: last!, elapsedMs: out!.now() - startMs };
    if (outcome) v.outcome = outcome;
    return { line: downloadLine(v), bundle: downloadBundle(v) };
  };
  return {
    update(state) {
      if (!out) {
        out = new LiveOutput(options);
        startMs = out.now();
      }
      last = state;
      out.tick(() => view());
    },
    finish(outcome) {
      if (out && last) out.final(view(outcome));
      out = undefined;
    },
  };
}
