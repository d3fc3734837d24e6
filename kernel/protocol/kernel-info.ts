// kernel_info_reply content: who we are and what language cells are in.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HALO_ROOT } from "../paths.ts";
import { PROTOCOL_VERSION } from "./messages.ts";

const pkg = JSON.parse(readFileSync(join(HALO_ROOT, "package.json"), "utf8")) as {
  version: string;
};

export function kernelInfoContent(): Record<string, unknown> {
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "halo",
    implementation_version: pkg.version,
    language_info: {
      name: "typescript",
      version: "6.0",
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      codemirror_mode: { name: "javascript", typescript: true },
      nbconvert_exporter: "script",
    },
    banner: `Halo ${pkg.version}: TypeScript cells on Node ${process.versions.node}, with \`halo\` and \`dfd\` (danfojs) in scope`,
    help_links: [
      { text: "Halo kernel", url: "https://github.com/halo/halo/blob/main/docs/kernel.md" },
    ],
    debugger: false,
  };
}
