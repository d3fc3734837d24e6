// Where Halo keeps files between sessions: `$HALO_CACHE_DIR` when set, else `halo/` under the
// XDG cache folder (`$XDG_CACHE_HOME`, default `~/.cache`). Cost profiles (`profiles/`) and call
// results (`results/`) each take a subfolder.
import { homedir } from "node:os";
import { join } from "node:path";

export function haloCacheDir(sub: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.HALO_CACHE_DIR) return join(env.HALO_CACHE_DIR, sub);
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "halo", sub);
}
