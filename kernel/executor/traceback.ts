// Error -> Jupyter's ename/evalue/traceback, with frames mapped to the cell's own line and
// column ("at f (In[3]:2:9)") and the kernel's internal frames (node:internal, node:vm, tsx,
// kernel/) removed.
import { KERNEL_CACHE, KERNEL_DIR } from "../paths.ts";
import type { ErrorContent } from "../protocol/messages.ts";
import type { Position } from "./source-map.ts";

export class InterruptError extends Error {
  constructor() {
    super("execution interrupted");
    this.name = "Interrupted";
  }
}

type MapFrame = (
  seq: number,
  pos: Position,
) => { label: string; pos: Position; line?: string } | undefined;

const CELL_FRAME = /halo-cell-(\d+):(\d+):(\d+)/;

export function formatTraceback(err: unknown, mapFrame: MapFrame): ErrorContent {
  if (
    (err as { code?: string } | null)?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED" ||
    err instanceof InterruptError
  ) {
    const e = new InterruptError();
    return { ename: e.name, evalue: e.message, traceback: [`${e.name}: ${e.message}`] };
  }
  if (!(err instanceof Error)) {
    const text = typeof err === "string" ? err : safeString(err);
    return { ename: "Uncaught", evalue: text, traceback: [`Uncaught ${text}`] };
  }
  const ename = err.name || err.constructor?.name || "Error";
  const evalue = err.message;
  const frames: string[] = [];
  let excerpt: string[] = [];
  for (const line of (err.stack ?? "").split("\n")) {
    if (!/^\s+at /.test(line)) continue;
    const m = CELL_FRAME.exec(line);
    if (m) {
      const mapped = mapFrame(Number(m[1]), { line: Number(m[2]), column: Number(m[3]) });
      if (!mapped) continue;
      const where = `${mapped.label}:${mapped.pos.line}:${mapped.pos.column}`;
      frames.push(
        line
          .replace(CELL_FRAME, where)
          .replace(/^\s+at (?:Object\.<anonymous>|<anonymous>) \((.*)\)$/, "    at $1"),
      );
      if (excerpt.length === 0 && mapped.line !== undefined) {
        excerpt = [
          `  ${mapped.pos.line} | ${mapped.line}`,
          `  ${" ".repeat(String(mapped.pos.line).length)} | ${" ".repeat(Math.max(0, mapped.pos.column - 1))}^`,
        ];
      }
      continue;
    }
    if (isInternal(line)) continue;
    frames.push(line);
  }
  // Drop the kernel's anonymous wrapper frames that survive the filters (async glue).
  return { ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames, ...excerpt] };
}

function isInternal(frame: string): boolean {
  return (
    /[( ]node:/.test(frame) ||
    frame.includes("/tsx/") ||
    frame.includes(`${KERNEL_DIR}/`) ||
    frame.includes(`${KERNEL_CACHE}/`) ||
    /^\s+at (?:new Promise|Promise\.\w+|process\.processTicksAndRejections) \(<anonymous>\)$/.test(
      frame,
    ) ||
    /^\s+at (?:new Promise|Promise\.\w+|async Promise\.\w+) \(index \d+\)$/.test(frame)
  );
}

function safeString(v: unknown): string {
  try {
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  } catch {
    return String(v);
  }
}
