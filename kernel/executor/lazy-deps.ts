// esbuild and acorn load on the first cell, not at kernel start (together about a third of the
// start-up CPU): kernel_info_reply needs neither. Both ship CommonJS, so a synchronous require
// keeps compileCell synchronous.
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as Esbuild from "esbuild";
import type * as Acorn from "acorn";
import { HALO_ROOT } from "../paths.ts";

const require = createRequire(join(HALO_ROOT, "package.json"));
let esbuildModule: typeof Esbuild | undefined;
let acornModule: typeof Acorn | undefined;

export function esbuild(): typeof Esbuild {
  return (esbuildModule ??= require("esbuild") as typeof Esbuild);
}

export function acorn(): typeof Acorn {
  return (acornModule ??= require("acorn") as typeof Acorn);
}
