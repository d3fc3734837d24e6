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

test.run();
