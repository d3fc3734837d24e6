// What SQL of served workflows can reach, probed as an admin-token holder would (over HTTP) and
// against real DuckDB and PostgreSQL: no file read or write (read_text, read_csv, COPY TO, glob),
// no ATTACH of a file, no INSTALL/LOAD, no httpfs, no SET undoing it; only the paths the operator
// allowed; the process's own halo.db untouched. PostgreSQL: a superuser or file-reading login is
// refused at start, a limited login (or a role set on top of one) runs the workflows' SQL with its
// rights only.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { halo } from "../../src/index.ts";
import { startServer, type HaloServer, type ServeOptions } from "../../src/serve/server.ts";
import {
  postgresAvailable,
  startPostgres,
  type PostgresServer,
} from "../helpers/postgres-server.ts";

const ADMIN = { Authorization: "Bearer the-admin" };
const work = mkdtempSync(join(tmpdir(), "halo-served-sql-"));
const allowed = join(work, "allowed");
const secret = join(work, "secret.csv");

let files: Server;
let filesUrl = "";

test.before(async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(allowed);
  writeFileSync(join(allowed, "prices.csv"), "sku,price\nA1,3\nB2,5\n");
  writeFileSync(secret, "token\nhunter2\n");
  // What httpfs would fetch, were it reachable.
  files = createServer((_req, res) => res.end("a,b\n1,2\n"));
  await new Promise<void>((r) => files.listen(0, "127.0.0.1", r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/x.csv`;
});

test.after(() => {
  files.closeAllConnections();
  files.close();
});

async function withServer(options: ServeOptions, body: (s: HaloServer) => Promise<void>) {
  const server = await startServer({ port: 0, adminToken: "the-admin", log: () => {}, ...options });
  try {
    await body(server);
  } finally {
    await server.close(5_000);
  }
}

/** Registers a one-node SQL workflow over HTTP (as an admin) and runs one query through it. */
async function probe(server: HaloServer, name: string, node: string, query = { k: 1 }) {
  const yaml = `name: ${name}\nnodes:\n  - ${node}\n`;
  const reg = await fetch(`${server.url}/v1/workflows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...ADMIN },
    body: JSON.stringify({ yaml }),
  });
  assert.is(reg.status, 201, await reg.clone().text());
  const res = await fetch(`${server.url}/v1/workflows/${name}/queries`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query }),
  });
  assert.is(res.status, 200);
  const body = (await res.json()) as {
    results: { outcome: string; row?: Record<string, unknown>; error?: string }[];
  };
  return body.results[0]!;
}

const sqlNode = (sql: string, extra = "") =>
  `{ id: s, type: sql, query: ${JSON.stringify(sql)}, output: out, shape: value${extra} }`;

test("served DuckDB SQL reaches no file, network, database file or extension", async () => {
  const written = join(work, "written.csv");
  const attached = join(work, "other.db");
  await withServer({}, async (server) => {
    const probes: [string, RegExp][] = [
      ["SELECT content FROM read_text('/etc/hostname')", /Permission Error: Cannot access file/],
      [`SELECT count(*) FROM read_csv('${secret}')`, /Permission Error/],
      [`COPY (SELECT 42 AS x) TO '${written}'`, /Permission Error/],
      [`ATTACH '${attached}' AS other`, /Permission Error/],
      ["INSTALL httpfs", /Permission Error/],
      ["LOAD httpfs", /Permission Error: Loading external extensions is disabled/],
      [`SELECT count(*) FROM read_csv('${filesUrl}')`, /Permission Error/],
      ["SELECT count(*) FROM glob('/etc/*')", /Permission Error/],
      ["SET enable_external_access = true", /the configuration has been locked/],
      ["RESET lock_configuration", /the configuration has been locked/],
      [`SET allowed_paths = ['${secret}']`, /the configuration has been locked/],
    ];
    let i = 0;
    for (const [sql, error] of probes) {
      const answer = await probe(server, `p${i++}`, sqlNode(sql));
      assert.is(answer.outcome, "failed", `${sql}: ${JSON.stringify(answer)}`);
      assert.match(answer.error!, error, sql);
    }
    assert.not.ok(existsSync(written), "COPY wrote a file");
    assert.not.ok(existsSync(attached), "ATTACH created a file");
    // SQL over parameters works: the sandbox takes files away, not SQL.
    const ok = await probe(
      server,
      "calc",
      sqlNode("SELECT upper($t) || '!'", ", params: { t: '{{t}}' }"),
      {
        t: "x'); DROP TABLE y; --",
      } as never,
    );
    assert.equal(ok.row, { t: "x'); DROP TABLE y; --", out: "X'); DROP TABLE Y; --!" });
  });
  // The process's own halo.db is not the served one: still unlocked for notebook code.
  const mine = await halo.db.query(`SELECT count(*)::INT AS n FROM read_csv('${secret}')`);
  assert.equal(mine.rows, [{ n: 1 }]);
});

test("--allow-path opens exactly the folders and files the operator names", async () => {
  await withServer({ allowPaths: [allowed] }, async (server) => {
    const prices = await probe(
      server,
      "prices",
      sqlNode(`SELECT sum(price)::INT FROM read_csv('${join(allowed, "prices.csv")}')`),
    );
    assert.is(prices.outcome, "ok", prices.error);
    assert.is(prices.row!.out, 8);
    const outside = await probe(
      server,
      "outside",
      sqlNode(`SELECT count(*) FROM read_csv('${secret}')`),
    );
    assert.match(outside.error!, /Permission Error/);
    const escape = await probe(
      server,
      "escape",
      sqlNode(`SELECT count(*) FROM read_csv('${allowed}/../secret.csv')`),
    );
    assert.match(escape.error!, /Permission Error/);
  });
  await startServer({ port: 0, allowPaths: [join(work, "nope")], log: () => {} }).then(
    () => assert.unreachable("started with a missing path"),
    (err: Error) => assert.match(err.message, /--allow-path .*nope: no such file or folder/),
  );
});

const pgAvailable = postgresAvailable();
let pgServer: PostgresServer | undefined;

test("PostgreSQL: a superuser or file-reading login is refused; a limited role runs the SQL", async () => {
  if (!pgAvailable) return;
  pgServer = await startPostgres();
  await pgServer.admin(`
    create table prices (sku text, price int);
    insert into prices values ('A1', 3), ('B2', 5);
    create role halo_reader login;
    grant select on prices to halo_reader;
    create role file_reader login;
    grant pg_read_server_files to file_reader;
    create role authenticator login noinherit;
    create role web nologin;
    grant web to authenticator;
    grant select on prices to web;`);
  for (const [login, why] of [
    ["halo", /the login 'halo' is or can become a superuser/],
    ["file_reader", /is a member of pg_read_server_files/],
  ] as const) {
    await startServer({
      port: 0,
      log: () => {},
      postgres: { main: { url: pgServer.url(login) } },
    }).then(
      () => assert.unreachable(`served as ${login}`),
      (err: Error) => assert.match(err.message, why),
    );
  }
  await withServer(
    {
      postgres: {
        main: { url: pgServer.url("halo_reader") },
        web: { url: pgServer.url("authenticator"), role: "web" },
      },
    },
    async (server) => {
      const db = ", db: main, params: { s: '{{sku}}' }";
      const price = await probe(
        server,
        "price",
        sqlNode("select price from prices where sku = $s", db),
        { sku: "B2" } as never,
      );
      assert.is(price.row!.out, 5);
      for (const [name, sql, error] of [
        [
          "file",
          "select pg_read_file('/etc/hostname')",
          /permission denied for function pg_read_file/,
        ],
        [
          "copy",
          "copy prices to '/tmp/halo-pg-copy.csv'",
          /permission denied|must be superuser|pg_write_server_files/,
        ],
        ["write", "insert into prices values ('C3', 1)", /permission denied for table prices/],
      ] as const) {
        const answer = await probe(server, name, sqlNode(sql, ", db: main"));
        assert.is(answer.outcome, "failed", sql);
        assert.match(answer.error!, error, sql);
      }
      const role = await probe(server, "who", sqlNode("select current_user::text", ", db: web"));
      assert.is(role.row!.out, "web");
    },
  );
  await pgServer.stop();
  pgServer = undefined;
});

test.after(async () => {
  await pgServer?.stop();
});

test.run();
