// Starts the tool server in a child process and talks to it over HTTP: the harness's handle.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ToolServerStats } from "./server.ts";

export interface ToolServerHandle {
  url: string;
  stats(): Promise<ToolServerStats>;
  resetStats(): Promise<void>;
  close(): Promise<void>;
}

export interface SpawnOptions {
  seed: number;
  fastMeanMs?: number;
  slowMeanMs?: number;
  shape?: number;
  datasets: ("imdb" | "articles" | "tpch")[];
  tpchScale?: number;
  imdbScale?: number;
  articlesScale?: number;
}

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

export async function spawnToolServer(options: SpawnOptions): Promise<ToolServerHandle> {
  const args = [
    "--import",
    "tsx",
    MAIN,
    `--seed=${options.seed}`,
    `--fast-ms=${options.fastMeanMs ?? 30}`,
    `--slow-ms=${options.slowMeanMs ?? 60}`,
    `--shape=${options.shape ?? 4}`,
    `--datasets=${options.datasets.join(",")}`,
    `--tpch-scale=${options.tpchScale ?? 0.01}`,
    `--imdb-scale=${options.imdbScale ?? 1}`,
    `--articles-scale=${options.articlesScale ?? 1}`,
  ];
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`tool server exited (code ${code}) before listening`));
    child.once("exit", onExit);
    lines.once("line", (line) => {
      child.off("exit", onExit);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        reject(new Error(`tool server said '${line}' instead of its URL`));
      }
    });
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as ToolServerStats,
    resetStats: async () => {
      await (await fetch(`${url}/stats`, { method: "POST" })).arrayBuffer();
    },
    close: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
