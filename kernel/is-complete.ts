// is_complete_request: esbuild parses the TypeScript (about 1 ms). Code that ends where more
// is expected (an open brace, a dangling operator, an unterminated template) is "incomplete";
// any other syntax error is "invalid".
import { esbuild } from "./executor/lazy-deps.ts";

export type Completeness =
  | { status: "complete" }
  | { status: "incomplete"; indent: string }
  | { status: "invalid" };

const NEEDS_MORE = [
  /end of file/i,
  /Unterminated template/i,
  /Unterminated regular expression/i,
  /Expected "\*\/" to terminate/i,
];

interface EsbuildError {
  text: string;
  location?: { lineText: string; column: number } | null;
}

/** esbuild calls an open template literal an "Unterminated string literal" and points at its
 *  end: the last quote before that on the line opens it (none: only a template spans lines). */
function isOpenTemplate(e: EsbuildError): boolean {
  if (!/Unterminated string/i.test(e.text) || !e.location) return false;
  const before = e.location.lineText.slice(0, e.location.column);
  const quote = [...before].reverse().find((c) => c === "`" || c === '"' || c === "'");
  return quote === undefined || quote === "`";
}

export function checkComplete(code: string): Completeness {
  try {
    esbuild().transformSync(code, {
      loader: "ts",
      logLevel: "silent",
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
    });
    return { status: "complete" };
  } catch (err) {
    const errors = (err as { errors?: EsbuildError[] }).errors;
    if (!errors) return { status: "invalid" };
    if (errors.every((e) => NEEDS_MORE.some((re) => re.test(e.text)) || isOpenTemplate(e))) {
      const lastLine = code.split("\n").pop() ?? "";
      const indent = /^\s*/.exec(lastLine)![0];
      return { status: "incomplete", indent: /[{([]\s*$/.test(code) ? `${indent}  ` : indent };
    }
    return { status: "invalid" };
  }
}
