// `halo bench runtime --json`: the runtime's own figures on the shipped model, as JSON a script
// can read (prefill and decode throughput by batch size, the cached-prefix comparison).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";

test("halo bench runtime --json prints the runtime figures", () => {
  const r = spawnSync(process.execPath, ["bin/halo.js", "bench", "runtime", "--json"], {
    encoding: "utf8",
    timeout: 240_000,
  });
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as Record<string, unknown>;
  const text = JSON.stringify(json);
  assert.match(text, /halo-tiny/);
  // Every throughput it reports is a positive number.
  const numbers = [...text.matchAll(/"tokensPerS":([\d.e+-]+)/g)].map((m) => Number(m[1]));
  assert.ok(numbers.length > 0, `no throughput figures in ${text.slice(0, 300)}`);
  for (const n of numbers) assert.ok(n > 0);
});

test("halo bench runtime DIR --dtype runs that variant; bad arguments say what is wrong", () => {
  const r = spawnSync(
    process.execPath,
    [
      "bin/halo.js",
      "bench",
      "runtime",
      "test/runtime/fixtures/graphs/qwen2",
      "--dtype",
      "q4",
      "--json",
    ],
    { encoding: "utf8", timeout: 240_000 },
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).model, /^qwen2:q4@/);
  const bad = spawnSync(
    process.execPath,
    ["bin/halo.js", "bench", "runtime", "--realistic", "gpt-9"],
    {
      encoding: "utf8",
    },
  );
  assert.is.not(bad.status, 0);
  assert.match(
    bad.stderr,
    /unknown realistic model gpt-9: choose from smollm2-135m, qwen2\.5-0\.5b/,
  );
});

test.run();
