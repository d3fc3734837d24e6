// Rendering a row's values into requests: lone surrogates become U+FFFD (what every UTF-8
// encoder on the way sends anyway), and a value with no text form fails with a RenderError that
// names the column and says what to do.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  RenderError,
  formatValue,
  renderParam,
  renderTemplate,
  renderValue,
  wellFormed,
} from "../../src/plan/template.ts";
import { httpRequest, renderUrl } from "../../src/executor/row-ops.ts";
import type { HttpArgs } from "../../src/plan/types.ts";

test("lone surrogates render as U+FFFD; pairs, NUL and RTL marks are kept", () => {
  assert.is(wellFormed("a\ud800b"), "a\ufffdb");
  assert.is(wellFormed("\udc00x\ud83d"), "\ufffdx\ufffd");
  assert.is(wellFormed("ok \ud83d\ude00 \u202e\0"), "ok \ud83d\ude00 \u202e\0");
  assert.is(renderTemplate("Q: {{q}}", { q: "cut\ud83d" }), "Q: cut\ufffd");
  assert.is(renderParam("{{q}}", { q: "x\udfff" }), "x\ufffd");
  assert.is(renderParam("{{n}}", { n: 7 }), 7, "a whole placeholder keeps the cell's type");
  // The URL a lone surrogate makes is the one the replacement character makes.
  assert.is(
    renderUrl("http://h/s?q={{q}}", { q: "a\ud800" }),
    renderUrl("http://h/s?q={{q}}", { q: "a\ufffd" }),
  );
  assert.is(renderUrl("http://h/s?q={{q}}", { q: "a\ud800" }), "http://h/s?q=a%EF%BF%BD");
});

test("a value with no text form fails naming its column and what to do", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  for (const value of [{ n: 1n }, cycle, deep]) {
    const error = (() => {
      try {
        renderTemplate("P {{v}}", { v: value });
      } catch (err) {
        return err;
      }
    })();
    assert.instance(error, RenderError);
    assert.is((error as RenderError).column, "v");
    assert.match((error as Error).message, /^column 'v': its value .*; turn it into a string/);
  }
  assert.throws(() => renderValue({ q: "{{v}}" }, { v: { n: 1n } }), /column 'v'/);
  assert.throws(
    () => renderTemplate("{{gone}}", { id: 1 }),
    (e: Error) =>
      e instanceof RenderError && /names no column of this row \(columns: id\)/.test(e.message),
  );
  assert.is(formatValue({ a: "\ud800" }), '{"a":"\\ud800"}', "JSON escapes lone surrogates");
});

test("a header value fetch would refuse fails its row, naming header and column", () => {
  const args: HttpArgs = {
    url: "http://127.0.0.1/x",
    method: "GET",
    headers: { "x-tag": "t={{tag}}" },
    output: "o",
    timeoutMs: 1000,
    retries: 0,
  };
  assert.equal(httpRequest(args, { tag: "caf\u00e9" }).headers, { "x-tag": "t=caf\u00e9" });
  for (const tag of ["a\r\nx-evil: 1", "nul\0", "\u{1f600}", "lone\ud800"])
    assert.throws(
      () => httpRequest(args, { tag }),
      /^column 'tag': header 'x-tag' would carry the character U\+[0-9A-F]{4}, which HTTP headers cannot; percent-encode/,
    );
});

test.run();
