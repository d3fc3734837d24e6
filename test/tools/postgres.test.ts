// PostgreSQL through `halo.connect(url)`, against a real server started here on a free port with
// its own data directory (Debian `postgresql`; skipped with a notice when absent, a failure under
// CI). Postgres refuses to run as root, so as root the server runs as the `postgres` user.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { halo } from "../../src/index.ts";
import { needSystem } from "../helpers/system.ts";
import type { PostgresDb } from "../../src/tools/postgres.ts";

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

const bin = postgresBin();
const available = needSystem(
  "PostgreSQL server",
  () => bin !== undefined,
  "apt-get install postgresql",
);
let server: ChildProcess | undefined;
let dir = "";
let db: PostgresDb;
let stopServer = () => {};

test.before(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), "halo-pg-"));
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
  const [initCmd, initArgs] = wrap(join(bin!, "initdb"), [
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
  const [cmd, args] = wrap(join(bin!, "postgres"), [
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
  server = spawn(cmd, args, { stdio: "ignore" });
  // runuser does not forward signals: stop the server itself through pg_ctl.
  stopServer = () => {
    const [stopCmd, stopArgs] = wrap(join(bin!, "pg_ctl"), [
      "stop",
      "-D",
      data,
      "-m",
      "fast",
      "-w",
    ]);
    spawnSync(stopCmd, stopArgs, { stdio: "ignore" });
  };
  db = halo.connect(`postgres://halo@127.0.0.1:${port}/postgres`);
  for (let i = 0; ; i++) {
    try {
      await db.query("select 1", {});
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await db.query("create table notes (id int, text text)", {});
});

test.after(async () => {
  if (!available) return;
  await db?.close();
  const exited = new Promise((r) => server?.once("exit", r));
  stopServer();
  await exited;
  rmSync(dir, { recursive: true, force: true });
});

test("named parameters are bound positionally; hostile values stay data", async () => {
  if (!available) return;
  const hostile = ["it's", "x'; DROP TABLE notes; --", "$1", "plain"];
  for (const [i, text] of hostile.entries())
    await db.query("insert into notes values ($id, $text)", { id: i, text });
  const { rows } = await halo
    .lazy(hostile.map((q) => ({ q })))
    .sql({
      db,
      query: "select id from notes where text = $q and id >= $min",
      params: { q: "{{q}}", min: 0 },
      output: "id",
      shape: "value",
    })
    .collectRows();
  assert.equal(
    rows.map((r) => r.id),
    [0, 1, 2, 3],
  );
  const count = await db.query("select count(*)::int as n from notes", {});
  assert.equal(count.rows, [{ n: 4 }]);
});

test("pg reads are shared within a run but never reused across collects", async () => {
  if (!available) return;
  const lf = halo.lazy([{ k: 1 }]).sql({
    db,
    query: "select count(*)::int as n from notes where id >= $k",
    params: { k: "{{k}}" },
    output: "n",
    shape: "value",
  });
  assert.is(lf.plan().nodes[1]!.volatility, "run");
  assert.is.not(lf.plan().nodes[1]!.signature, lf.plan().nodes[1]!.signature);
  const first = await lf.collectRows();
  await db.query("insert into notes values (9, 'new')", {});
  const second = await lf.collectRows();
  assert.is(second.rows[0]!.n, (first.rows[0]!.n as number) + 1, "the new row is seen");
});

test("a bad URL fails at once", () => {
  assert.throws(() => halo.connect("mysql://x"), /expected a URL like "postgres:\/\//);
});

test.run();
