// The neutral shape every generator produces: a table's schema and its rows as column-major
// chunks, generated lazily so a TPC-H scale of 1 (6 M lineitems) never sits in JS memory whole;
// the loader appends each chunk as one DuckDB data chunk.

export type ColumnType = "INTEGER" | "BIGINT" | "DOUBLE" | "VARCHAR" | "DATE";

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** May hold null (the loader and the key checks honour it). */
  nullable?: boolean;
}

export interface ForeignKey {
  columns: string[];
  table: string;
  refColumns: string[];
}

/** Column-major rows: `columns[c][r]`. DATE values are days since 1970-01-01. */
export type ColumnChunk = unknown[][]; // [column, row]

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  /** Exact row count when the generator knows it up front (TPC-H lineitem does not). */
  rows?: number;
  /** Yields the rows in chunks of at most CHUNK_ROWS; the same sequence on every call. */
  chunks(): Iterable<ColumnChunk>;
}

export interface Dataset {
  name: string;
  seed: number;
  scale: number;
  tables: TableSpec[];
}

/** DuckDB's vector size: one data chunk holds at most this many rows. */
export const CHUNK_ROWS = 2048;

/** Splits whole columns into chunks (for the small generators that build columns in memory). */
export function* chunkColumns(columns: unknown[][]): Iterable<ColumnChunk> {
  const n = columns[0]?.length ?? 0;
  for (let start = 0; start < n; start += CHUNK_ROWS) {
    const end = Math.min(n, start + CHUNK_ROWS);
    yield columns.map((c) => c.slice(start, end));
  }
}

/** Accumulates rows column by column and hands out full chunks: for streamed generators. */
export class ChunkBuilder {
  private cols: unknown[][];
  constructor(private readonly width: number) {
    this.cols = Array.from({ length: width }, () => []);
  }
  push(row: unknown[]): void {
    if (row.length !== this.width)
      throw new Error(`row has ${row.length} values, table has ${this.width} columns`);
    for (let c = 0; c < this.width; c++) this.cols[c]!.push(row[c]);
  }
  get length(): number {
    return this.cols[0]?.length ?? 0;
  }
  full(): boolean {
    return this.length >= CHUNK_ROWS;
  }
  take(): ColumnChunk {
    const out = this.cols;
    this.cols = Array.from({ length: this.width }, () => []);
    return out;
  }
}

export function findTable(dataset: Dataset, name: string): TableSpec {
  const t = dataset.tables.find((x) => x.name === name);
  if (!t)
    throw new Error(
      `dataset '${dataset.name}' has no table '${name}'; it has: ${dataset.tables.map((x) => x.name).join(", ")}`,
    );
  return t;
}

/** Days since 1970-01-01 for a calendar date (UTC). */
export function toDays(year: number, month: number, day: number): number {
  return Math.round(Date.UTC(year, month - 1, day) / 86_400_000);
}

/** ISO text for days since 1970-01-01. */
export function daysToIso(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}
