import * as assert from "uvu/assert";

/** Asserts that `promise` rejects with a message matching `pattern` (uvu 0.5 has no `rejects`). */
export async function rejects(promise: Promise<unknown>, pattern?: RegExp): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (pattern) assert.match((error as Error).message, pattern);
    return error as Error;
  }
  assert.unreachable(`expected a rejection${pattern ? ` matching ${pattern}` : ""}`);
  throw new Error("unreachable");
}
