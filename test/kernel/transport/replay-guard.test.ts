// The replay guard admits a signature once, forgets the oldest beyond its capacity, and never
// grows past it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ReplayGuard } from "../../../kernel/transport/replay-guard.ts";

test("a signature is admitted once; a replay is refused", () => {
  const guard = new ReplayGuard();
  assert.ok(guard.admit("a1"));
  assert.ok(guard.admit("b2"));
  assert.not.ok(guard.admit("a1"));
  assert.not.ok(guard.admit("b2"));
});

test("bounded: the oldest signatures are forgotten first", () => {
  const guard = new ReplayGuard(3);
  for (const s of ["s1", "s2", "s3", "s4"]) assert.ok(guard.admit(s));
  assert.is(guard.size, 3);
  assert.not.ok(guard.admit("s4"), "recent: still refused");
  assert.not.ok(guard.admit("s2"));
  assert.ok(guard.admit("s1"), "the oldest was forgotten");
  for (let i = 0; i < 10_000; i++) guard.admit(`x${i}`);
  assert.is(guard.size, 3);
});

test.run();
