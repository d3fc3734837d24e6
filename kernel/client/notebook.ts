// nbformat 4 notebooks: read, and turn a cell's iopub messages into its outputs (streams merged,
// update_display_data applied to earlier outputs with the same display id, clear_output honoured).
import { readFileSync } from "node:fs";
import type { Message } from "../protocol/messages.ts";

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  id?: string;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

export type Output = Record<string, unknown> & { output_type: string };

export function readNotebook(path: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(readFileSync(path, "utf8")) as Notebook;
  } catch (err) {
    throw new Error(`cannot read notebook '${path}': ${(err as Error).message}`);
  }
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells))
    throw new Error(
      `'${path}' is not an nbformat 4 notebook (nbformat ${String(nb.nbformat)}): convert it with 'jupyter nbconvert --to notebook'`,
    );
  return nb;
}

export function sourceText(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Accumulates outputs the way a frontend shows them. */
export class OutputCollector {
  readonly outputs: Output[] = [];
  #displayIds = new Map<string, Output[]>();
  #clearPending = false;

  add(msg: Message): void {
    const c = msg.content as Record<string, unknown>;
    const type = msg.header.msg_type;
    if (type === "clear_output") {
      if (c.wait) this.#clearPending = true;
      else this.#clear();
      return;
    }
    if (type === "update_display_data") {
      const id = (c.transient as { display_id?: string } | undefined)?.display_id;
      for (const o of (id && this.#displayIds.get(id)) || []) {
        o.data = c.data;
        o.metadata = c.metadata ?? {};
      }
      return;
    }
    if (!["stream", "display_data", "execute_result", "error"].includes(type)) return;
    if (this.#clearPending) {
      this.#clear();
      this.#clearPending = false;
    }
    if (type === "stream") {
      const last = this.outputs[this.outputs.length - 1];
      if (last && last.output_type === "stream" && last.name === c.name)
        last.text = String(last.text) + String(c.text);
      else this.outputs.push({ output_type: "stream", name: c.name, text: c.text });
    } else if (type === "error") {
      this.outputs.push({
        output_type: "error",
        ename: c.ename,
        evalue: c.evalue,
        traceback: c.traceback,
      });
    } else {
      const out: Output = { output_type: type, data: c.data, metadata: c.metadata ?? {} };
      if (type === "execute_result") out.execution_count = c.execution_count;
      this.outputs.push(out);
      const id = (c.transient as { display_id?: string } | undefined)?.display_id;
      if (id) this.#displayIds.set(id, [...(this.#displayIds.get(id) ?? []), out]);
    }
  }

  #clear(): void {
    this.outputs.length = 0;
  }
}
