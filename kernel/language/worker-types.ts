// Messages between the handler's LanguageTools proxy (language/remote.ts) and the language
// service's worker thread (language/worker.ts).
export type LanguageRequest = { id: number } & (
  | { op: "warm" }
  | { op: "complete"; earlier: string[]; code: string; cursor: number }
  | { op: "inspect"; earlier: string[]; code: string; cursor: number; detailLevel: number }
);

export type LanguageResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };
