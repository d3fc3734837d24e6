// PostgreSQL through `halo.connect(url)`, against a real server started here on a free port with
// its own data directory (Debian `postgresql`; skipped with a notice when absent, a failure under
// CI): parameters bound, never spliced; reads never reused across collects; a role set on the
// database is the one every query runs as, even after a query reset it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { halo } from "../../src/index.ts";
import { PostgresDb } from "../../src/tools/postgres.ts";
import {
  postgresAvailable,
  startPostgres,
  type PostgresServer,
} from "../helpers/postgres-server.ts";

const available = postgresAvailable();
let server: PostgresServer | undefined;
let db: PostgresDb;

test.before(async () => {
  if (!available) return;
  server = await startPostgres();
  db = halo.connect(server.url());
  await db.query("create table notes (id int, text text)", {});
});

test.after(async () => {
  await db?.close();
  await server?.stop();
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

test("with a role, every query runs as that role, even after one reset it", async () => {
  if (!available) return;
  await server!.admin(`
    create role halo_login login noinherit;
    create role reader nologin;
    grant reader to halo_login;
    grant select on notes to reader;`);
  const reader = new PostgresDb(server!.url("halo_login"), { role: "reader" });
  try {
    const who = await reader.query(
      "select session_user::text as login, current_user::text as r",
      {},
    );
    assert.equal(who.rows, [{ login: "halo_login", r: "reader" }]);
    const count = await reader.query("select count(*)::int as n from notes", {});
    assert.ok((count.rows[0]!.n as number) >= 4);
    // The role may read notes, not write them.
    await reader.query("insert into notes values (99, 'x')", {}).then(
      () => assert.unreachable("a write went through"),
      (err: Error) => assert.match(err.message, /permission denied for table notes/),
    );
    // A query that resets the role does not leave its connection with the login's rights.
    await reader.query("reset role", {});
    const again = await reader.query("select current_user::text as r", {});
    assert.equal(again.rows, [{ r: "reader" }]);
  } finally {
    await reader.close();
  }
  const missing = new PostgresDb(server!.url(), { role: "no_such_role" });
  await missing.query("select 1", {}).then(
    () => assert.unreachable(),
    (err: Error) =>
      assert.match(err.message, /cannot SET ROLE no_such_role: role "no_such_role" does not exist/),
  );
  await missing.close();
});

test("a bad URL fails at once", () => {
  assert.throws(() => halo.connect("mysql://x"), /expected a URL like "postgres:\/\//);
});

test.run();
