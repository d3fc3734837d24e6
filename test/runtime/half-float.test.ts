// float16 bits <-> float32: exact on every half value, round-to-nearest-even from float32.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { floatToHalf, halfToFloat } from "../../src/runtime/half-float.ts";

const toFloat = (h: number) => {
  const out = new Float32Array(1);
  halfToFloat(Uint16Array.of(h), 0, 1, out, 0);
  return out[0]!;
};

test("known values both ways", () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x0400, 2 ** -14],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [h, f] of cases) {
    assert.is(toFloat(h), f, `0x${h.toString(16)}`);
    assert.is(floatToHalf(f), h, String(f));
  }
  assert.ok(Number.isNaN(toFloat(0x7e00)));
  assert.is(floatToHalf(NaN) & 0x7c00, 0x7c00);
});

test("every finite half survives float32 and back; rounding is to nearest even", () => {
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00) continue;
    assert.is(floatToHalf(toFloat(h)), h);
  }
  assert.is(floatToHalf(1 + 2 ** -11), 0x3c00, "tie rounds to even (down)");
  assert.is(floatToHalf(1 + 3 * 2 ** -11), 0x3c02, "tie rounds to even (up)");
  assert.is(floatToHalf(70000), 0x7c00, "overflow is Infinity");
  assert.is(floatToHalf(2 ** -26), 0, "underflow is zero");
});

test.run();
