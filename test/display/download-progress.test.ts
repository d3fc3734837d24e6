import { test } from "uvu";
import * as assert from "uvu/assert";
import { downloadLine, startDownloadProgress } from "../../src/display/download-progress.ts";
import type { DisplayHost, MimeBundle } from "../../src/display/host.ts";
import { parseXml } from "./xml-check.ts";

function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const state = (bytesDone: number, filesDone = 0) => ({
  file: "onnx/model_q4.onnx",
  filesDone,
  filesTotal: 3,
  bytesDone,
  bytesTotal: 4_000_000,
});

test("notebook: a bar created once and replaced in place, green when done", () => {
  const clock = fakeClock();
  const calls: { bundle: MimeBundle; options?: { id?: string; update?: boolean } }[] = [];
  const host: DisplayHost = {
    rich: true,
    display: (bundle, options) => void calls.push({ bundle, options }),
  };
  const p = startDownloadProgress("model acme/m", { host, now: clock.now });
  for (let i = 1; i <= 40; i++) {
    clock.advance(100);
    p.update(state(i * 100_000, Math.floor(i / 20)));
  }
  p.finish("done");
  assert.ok(calls.length >= 3 && calls.length <= 20, `throttled: ${calls.length} renders`);
  const id = calls[0]!.options?.id;
  assert.is(calls[0]!.options?.update, undefined);
  for (const c of calls.slice(1)) assert.equal(c.options, { id, update: true });
  const html = calls.at(-1)!.bundle["text/html"] as string;
  parseXml(html);
  assert.match(html, /#59a14f/);
  assert.match(html, /width:100\.0%/);
  assert.match(
    calls.at(-1)!.bundle["text/plain"] as string,
    /model acme\/m: downloaded · file 2\/3 · 4\.00 MB \/ 4\.00 MB \(100%\)/,
  );
});

test("terminal: nothing at all for a model already in the cache; a line while bytes move", () => {
  const writes: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (writes.push(s), true) };
  const cached = startDownloadProgress("model acme/m", {
    stream,
    host: { rich: false, display() {} },
  });
  cached.finish("done");
  assert.equal(writes, []);
  const clock = fakeClock();
  const p = startDownloadProgress("model acme/m", {
    stream,
    host: { rich: false, display() {} },
    now: clock.now,
  });
  p.update(state(0));
  clock.advance(2000);
  p.update(state(2_000_000));
  p.finish("failed");
  assert.is(writes.length, 2, "the first line, then the final one (non-TTY logs are sparse)");
  assert.match(
    writes[1]!,
    /^model acme\/m: download failed · file 0\/3 · 2\.00 MB \/ 4\.00 MB \(50%\) · 1\.00 MB\/s · in 2\.00 s\n$/,
  );
});

test("the line estimates the time left from the rate so far", () => {
  const line = downloadLine({ label: "model x/y", state: state(1_000_000), elapsedMs: 1000 });
  assert.is(
    line,
    "model x/y: onnx/model_q4.onnx · file 1/3 · 1.00 MB / 4.00 MB (25%) · 1.00 MB/s · ~3.00 s left",
  );
});

test.run();
