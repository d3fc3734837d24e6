// The tool server as its own process (what the harness starts, so the server's event loop is
// never blocked by a system's synchronous work): prints one JSON line `{"url": ...}` on stdout
// once listening, serves until stdin closes or SIGTERM, then exits.
//   node --import tsx bench/http-tools/main.ts [--seed N] [--fast-ms 30] [--slow-ms 60]
//     [--shape 4] [--datasets imdb,articles,tpch] [--tpch-scale 0.01]
import { parseArgs } from "node:util";
import { startToolServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "42" },
    "fast-ms": { type: "string", default: "30" },
    "slow-ms": { type: "string", default: "60" },
    shape: { type: "string", default: "4" },
    datasets: { type: "string", default: "imdb,articles,tpch" },
    "imdb-scale": { type: "string", default: "1" },
    "articles-scale": { type: "string", default: "1" },
    "tpch-scale": { type: "string", default: "0.01" },
  },
});

const num = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
  return n;
};

const server = await startToolServer({
  seed: num("seed", values.seed),
  delays: {
    fastMeanMs: num("fast-ms", values["fast-ms"]),
    slowMeanMs: num("slow-ms", values["slow-ms"]),
    shape: num("shape", values.shape),
  },
  datasets: values.datasets!.split(",") as ("imdb" | "articles" | "tpch")[],
  scale: {
    imdb: num("imdb-scale", values["imdb-scale"]),
    articles: num("articles-scale", values["articles-scale"]),
    tpch: num("tpch-scale", values["tpch-scale"]),
  },
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  server.close().then(() => process.exit(0));
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
