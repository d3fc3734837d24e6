// A small SQL lexer: enough to find `$name` parameters outside strings, quoted identifiers,
// comments and dollar quotes, to count statements, and to tell read-only queries (which may be
// deduplicated and reused) from writes. It only ever reads the query; values are always bound.

export interface SqlScan {
  /** Named parameters in order of first appearance. */
  params: string[];
  /** Query text with `$name` replaced by `$1..$n` (PostgreSQL's positional form). */
  positional: string;
  /** Upper-cased bare words outside strings and comments. */
  words: string[];
  /** Statements separated by `;` (a trailing `;` does not count). */
  statements: number;
}

export function scanSql(sql: string): SqlScan {
  const params: string[] = [];
  const words: string[] = [];
  let out = "";
  let statements = 1;
  let trailing = true;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
      trailing = false;
      continue;
    }
    if (rest.startsWith("--")) {
      const end = sql.indexOf("\n", i);
      const j = end === -1 ? sql.length : end;
      out += sql.slice(i, j);
      i = j;
      continue;
    }
    if (rest.startsWith("/*")) {
      const end = sql.indexOf("*/", i + 2);
      const j = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, j);
      i = j;
      continue;
    }
    if (c === "$") {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest);
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        const j = end === -1 ? sql.length : end + tag[0].length;
        out += sql.slice(i, j);
        i = j;
        trailing = false;
        continue;
      }
      const name = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
      if (name) {
        let k = params.indexOf(name[1]!);
        if (k === -1) k = params.push(name[1]!) - 1;
        out += `$${k + 1}`;
        i += name[0].length;
        trailing = false;
        continue;
      }
    }
    if (c === ";") {
      statements++;
      trailing = true;
      out += c;
      i++;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (word) {
      words.push(word[0].toUpperCase());
      out += word[0];
      i += word[0].length;
      trailing = false;
      continue;
    }
    if (!/\s/.test(c)) trailing = false;
    out += c;
    i++;
  }
  if (trailing && statements > 1) statements--;
  return { params, positional: out, words, statements };
}

const WRITES = new Set([
  "INSERT",
  "UPDATE",
  "DELETE",
  "MERGE",
  "CREATE",
  "DROP",
  "ALTER",
  "TRUNCATE",
  "COPY",
  "ATTACH",
  "DETACH",
  "INSTALL",
  "LOAD",
  "SET",
  "RESET",
  "CALL",
  "EXPORT",
  "IMPORT",
  "VACUUM",
  "GRANT",
  "REVOKE",
  "PRAGMA",
  "CHECKPOINT",
  "BEGIN",
  "COMMIT",
  "ROLLBACK",
  "USE",
  "LOCK",
]);
const VOLATILE_FUNCTIONS = new Set([
  "RANDOM",
  "NEXTVAL",
  "SETSEED",
  "NOW",
  "CURRENT_TIMESTAMP",
  "CURRENT_TIME",
  "CURRENT_DATE",
  "UUID",
  "GEN_RANDOM_UUID",
  "CLOCK_TIMESTAMP",
  "TRANSACTION_TIMESTAMP",
  "STATEMENT_TIMESTAMP",
  "LOCALTIMESTAMP",
  "TODAY",
]);
const READS = new Set([
  "SELECT",
  "WITH",
  "VALUES",
  "FROM",
  "TABLE",
  "SHOW",
  "DESCRIBE",
  "SUMMARIZE",
]);

/**
 * Conservative: true only for one statement that starts like a query and mentions no writing
 * keyword anywhere (a PostgreSQL `WITH ... INSERT` is caught by the keyword).
 */
export function isReadOnlySql(scan: SqlScan): boolean {
  return (
    scan.statements === 1 &&
    READS.has(scan.words[0] ?? "") &&
    !scan.words.some((w) => WRITES.has(w))
  );
}

/** True when the query calls a function whose result changes between calls (random, now). */
export function callsVolatileFunction(scan: SqlScan): boolean {
  return scan.words.some((w) => VOLATILE_FUNCTIONS.has(w));
}

/** An identifier quoted for DuckDB and PostgreSQL alike: `"name"`, inner quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal for statements that take no parameters (SET): `'text'`, quotes doubled. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
