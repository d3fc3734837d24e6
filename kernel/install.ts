// `halo install [--user | --prefix P | --sys-prefix] [--name N] [--display-name D]
//  [--interrupt-mode message|signal]`: writes the kernelspec (kernel.json with an absolute argv,
// and the logos) where Jupyter looks for kernels.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { HALO_ROOT as ROOT } from "./paths.ts";
import { writeEsbuildWrapper } from "./esbuild-session.ts";

const SPEC_DIR = join(ROOT, "kernelspec");

export interface InstallOptions {
  /** The folder that holds `kernels/` (a Jupyter data dir). */
  dataDir: string;
  name: string;
  displayName: string;
  interruptMode: "message" | "signal";
}

export function parseInstallArgs(args: string[]): InstallOptions {
  let dataDir: string | undefined;
  let name = "halo";
  let displayName = "Halo (TypeScript)";
  let interruptMode: "message" | "signal" = "message";
  const value = (i: number, flag: string): string => {
    const v = args[i];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--user") dataDir = userDataDir();
    else if (a === "--prefix") dataDir = join(resolve(value(++i, a)), "share", "jupyter");
    else if (a === "--sys-prefix") dataDir = join(sysPrefix(), "share", "jupyter");
    else if (a === "--name") name = value(++i, a);
    else if (a === "--display-name") displayName = value(++i, a);
    else if (a === "--interrupt-mode") {
      const mode = value(++i, a);
      if (mode !== "message" && mode !== "signal")
        throw new Error(`--interrupt-mode must be 'message' or 'signal', not '${mode}'`);
      interruptMode = mode;
    } else throw new Error(`unknown option '${a}': see 'halo install --help'`);
  }
  if (!/^[a-z0-9._-]+$/i.test(name))
    throw new Error(
      `--name '${name}' may hold only letters, digits, '.', '_' and '-' (Jupyter's rule for kernel names)`,
    );
  return { dataDir: dataDir ?? userDataDir(), name, displayName, interruptMode };
}

function userDataDir(): string {
  return (
    process.env.JUPYTER_DATA_DIR ??
    join(process.env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"), "jupyter")
  );
}

/** Python's sys.prefix, which is what Jupyter means by --sys-prefix. */
function sysPrefix(): string {
  const r = spawnSync("python3", ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error("--sys-prefix needs python3 to find sys.prefix: use --prefix P instead");
  return r.stdout.trim();
}

export function installKernelspec(o: InstallOptions): string {
  const dir = join(o.dataDir, "kernels", o.name.toLowerCase());
  mkdirSync(dir, { recursive: true });
  const template = JSON.parse(readFileSync(join(SPEC_DIR, "kernel.json"), "utf8")) as {
    argv: string[];
  } & Record<string, unknown>;
  const wrapper = writeEsbuildWrapper(dir);
  const spec = {
    ...template,
    env: {
      ...(template.env as Record<string, string>),
      ...(wrapper ? { ESBUILD_BINARY_PATH: wrapper } : {}),
    },
    argv: template.argv.map((a) =>
      a === "{node}" ? process.execPath : a === "{launch}" ? join(ROOT, "kernel", "launch.mjs") : a,
    ),
    display_name: o.displayName,
    interrupt_mode: o.interruptMode,
  };
  writeFileSync(join(dir, "kernel.json"), `${JSON.stringify(spec, null, 2)}\n`);
  for (const logo of ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"])
    copyFileSync(join(SPEC_DIR, logo), join(dir, logo));
  return dir;
}

export async function run(args: string[]): Promise<number> {
  const options = parseInstallArgs(args);
  const dir = installKernelspec(options);
  process.stdout.write(
    `installed kernelspec '${options.name}' ("${options.displayName}") in ${dir}\n`,
  );
  return 0;
}
