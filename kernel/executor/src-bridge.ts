// The kernel's link to Halo's TypeScript sources (src/) and to `.ts` files a notebook imports.
// The kernel itself starts from a prebuilt bundle without tsx (kernel/launch.mjs: start under
// 1 s), so tsx is registered only when a cell first needs TypeScript. The display host and the
// cancellation provider are installed right then, on the very module instances src/ imports
// (file URLs under src/), before any src/ module can run. Paths are computed so the bundler
// leaves these imports alone.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { DisplayHost } from "../../src/display/host.ts";
import { HALO_ROOT } from "../paths.ts";

export interface SrcBridgeOptions {
  /** True when the process already runs under tsx (`halo kernel` through bin/halo.js). */
  tsxRegistered: boolean;
  displayHost: DisplayHost;
  signal: () => AbortSignal | undefined;
}

let options: SrcBridgeOptions | undefined;
let ready: Promise<void> | undefined;

export function configureSrcBridge(o: SrcBridgeOptions): void {
  options = o;
}

export function srcUrl(relative: string): string {
  return pathToFileURL(join(HALO_ROOT, "src", relative)).href;
}

/** Registers tsx (once) and installs the providers; later calls return the same promise. */
export function ensureTypeScript(): Promise<void> {
  ready ??= (async () => {
    if (!options) throw new Error("the kernel's src bridge is not configured");
    if (!options.tsxRegistered) {
      const api = "tsx/esm/api";
      const { register } = (await import(api)) as { register: () => void };
      register();
    }
    const host = (await import(
      srcUrl("display/host.ts")
    )) as typeof import("../../src/display/host.ts");
    host.setDisplayHost(options.displayHost);
    const cancel = (await import(srcUrl("cancel.ts"))) as typeof import("../../src/cancel.ts");
    cancel.setSignalProvider(options.signal);
  })();
  return ready;
}

/** Imports a module of src/ (after ensureTypeScript). */
export async function importSrc(relative: string): Promise<Record<string, unknown>> {
  await ensureTypeScript();
  return (await import(srcUrl(relative))) as Record<string, unknown>;
}

/**
 * Ends src/'s model threads, if src/ was ever loaded: before the kernel exits, because exiting
 * while a thread is inside onnxruntime aborts the process (src/processor/llm/thread/).
 */
export async function closeModelThreads(): Promise<void> {
  if (!ready) return;
  await ready.catch(() => {});
  const threads = (await import(
    srcUrl("processor/llm/thread/model-threads.ts")
  )) as typeof import("../../src/processor/llm/thread/model-threads.ts");
  await threads.closeModelThreads();
}
