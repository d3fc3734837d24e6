// The cheap plan that frame verbs build: a tree (a Join has two inputs) of immutable nodes that
// point at their inputs. Nothing here reads data; a Source holds a reader called at `lower()`,
// so a danfo DataFrame changed between cells is read as it is at `collect()` time.
import type { NodeArgsByKind, NodeKind, TableData, Volatility } from "./types.ts";

export type LogicalKind = Exclude<NodeKind, "Sink" | "SinkMultiple">;

export interface SourceReader {
  /** "danfo", "arrow" or "rows". */
  origin: string;
  read(): TableData;
}

export interface LogicalArgsByKind extends Omit<NodeArgsByKind, "Source"> {
  Source: { reader: SourceReader };
}

export interface LogicalNodeOf<K extends LogicalKind> {
  kind: K;
  inputs: LogicalNode[];
  args: LogicalArgsByKind[K];
  /** Output columns as known when the verb ran (null: unknown). */
  columns: string[] | null;
  label: string;
  volatility: Volatility;
}

export type LogicalNode = { [K in LogicalKind]: LogicalNodeOf<K> }[LogicalKind];

export function makeLogical<K extends LogicalKind>(
  kind: K,
  inputs: LogicalNode[],
  args: LogicalArgsByKind[K],
  columns: string[] | null,
  label: string,
  volatility: Volatility = "stable",
): LogicalNode {
  return Object.freeze({ kind, inputs, args, columns, label, volatility }) as LogicalNode;
}
