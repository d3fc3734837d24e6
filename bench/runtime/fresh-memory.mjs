#!/usr/bin/env node
// What a page of fresh memory costs on this machine: the kernel maps and zeroes each page on
// first touch, and on some VMs that dominates any copy into new memory (docs/runtime.md, "Copies
// on the hot path"). Prints GB/s for allocating and filling a Float32Array of each size, against
// filling one already touched.
//
//   node bench/runtime/fresh-memory.mjs [MB ...]      (default 1 4 16 64 128)
const sizes = process.argv.slice(2).map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const mb of sizes.length ? sizes : [1, 4, 16, 64, 128]) {
  const n = (mb * 2 ** 20) / 4;
  const fresh = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    new Float32Array(n).fill(1);
    fresh.push(performance.now() - t0);
  }
  const touched = new Float32Array(n).fill(1);
  const again = [];
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    touched.fill(i);
    again.push(performance.now() - t0);
  }
  const rate = (ms) => (mb / 1024 / (ms / 1000)).toFixed(2);
  console.log(
    `${mb} MB: fresh ${median(fresh).toFixed(1)} ms (${rate(median(fresh))} GB/s), touched ${median(again).toFixed(1)} ms (${rate(median(again))} GB/s)`,
  );
}
