// A process sharing a result-store folder with others (test/executor/disk-result-store.test.ts):
// "write" puts N keys in a shuffled order, "read" reads them while writers run, counting hits
// and checking every hit is the value that key always has. Prints one JSON line of counts.
import { DiskResultStore } from "../../../src/executor/disk-result-store.ts";

const [dir, role, n, seed] = process.argv.slice(2);
const store = new DiskResultStore(dir!, 64 * 2 ** 20);
const count = Number(n);
let s = Number(seed);
const order = Array.from({ length: count }, (_, i) => i).sort(
  () => ((s = (s * 1103515245 + 12345) >>> 0) & 1) - 0.5,
);
export const valueOf = (i: number) => ({ i, text: `answer ${i} `.repeat(20) });
const key = (i: number) => i.toString(16).padStart(64, "0");

let hits = 0;
let wrong = 0;
for (let round = 0; round < (role === "read" ? 5 : 1); round++)
  for (const i of order) {
    if (role === "write") store.put("llm", key(i), valueOf(i));
    const got = store.get("llm", key(i));
    if (got) {
      hits++;
      if (JSON.stringify(got.value) !== JSON.stringify(valueOf(i))) wrong++;
    }
  }
process.stdout.write(`${JSON.stringify({ role, hits, wrong })}\n`);
