// A real PostgreSQL server for a test file: Debian's `postgresql`, started on a free port with its
// own data folder (trust authentication, superuser `halo`), stopped and removed after. Postgres
// refuses to run as root, so as root it runs as the `postgres` user. `available` is false (with a
// notice, or a failure under CI) when PostgreSQL is not installed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { needSystem } from "./system.ts";

function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const bin = version && join(root, version, "bin");
  return bin && existsSync(join(bin, "initdb")) ? bin : undefined;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface PostgresServer {
  /** `postgres://USER@127.0.0.1:PORT/postgres`; USER defaults to the superuser `halo`. */
  url(user?: string): string;
  /** Runs SQL as the superuser (setup: roles, grants, tables). */
  admin(sql: string): Promise<void>;
  stop(): Promise<void>;
}

export function postgresAvailable(): boolean {
  return needSystem(
    "PostgreSQL server",
    () => postgresBin() !== undefined,
    "apt-get install postgresql",
  );
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin()!;
  const dir = mkdtempSync(join(tmpdir(), "halo-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  if (asRoot) {
    const pw = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    chownSync(dir, Number(pw.stdout), Number(gid.stdout));
    chmodSync(dir, 0o700);
  }
  const [initCmd, initArgs] = wrap(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "halo",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [cmd, args] = wrap(join(bin, "postgres"), [
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-h",
    "127.0.0.1",
    "-F",
  ]);
  const server: ChildProcess = spawn(cmd, args, { stdio: "ignore" });
  const url = (user = "halo") => `postgres://${user}@127.0.0.1:${port}/postgres`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  for (let i = 0; ; i++) {
    try {
      await admin("select 1");
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    admin,
    async stop() {
      const exited = new Promise((r) => server.once("exit", r));
      // runuser does not forward signals: stop the server itself through pg_ctl.
      const [stopCmd, stopArgs] = wrap(join(bin, "pg_ctl"), [
        "stop",
        "-D",
        data,
        "-m",
        "fast",
        "-w",
      ]);
      spawnSync(stopCmd, stopArgs, { stdio: "ignore" });
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
