// The SQL tool: a rendered query call against a named database, shaped for a cell.
import { getDatabase } from "./databases.ts";
import type { SqlShape } from "../plan/types.ts";
import type { Tool } from "./types.ts";

export interface SqlRequest {
  dbKey: string;
  query: string;
  /** Bound values by parameter name. */
  params: Record<string, unknown>;
  /** "rows": every row as objects; "row": the first row or null; "value": its first column. */
  shape: SqlShape;
}

export const sqlTool: Tool<SqlRequest> = {
  kind: "sql",
  async call(request, context) {
    const result = await getDatabase(request.dbKey).query(request.query, request.params, context);
    if (request.shape === "rows") return result.rows;
    const first = result.rows[0] ?? null;
    if (request.shape === "row") return first;
    return first === null ? null : (first[result.columns[0]!] ?? null);
  },
};
