// Where the hub is and where its files go, read from the environment variables huggingface_hub
// documents, so a cache and a token set up for the Python tools serve Halo unchanged:
//   HF_ENDPOINT     the hub (default https://huggingface.co; a mirror or a stand-in in tests)
//   HF_TOKEN        Bearer token for gated and private repos (else the file HF_TOKEN_PATH,
//                   default $HF_HOME/token, which `huggingface-cli login` writes)
//   HF_HOME         default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface
//   HF_HUB_CACHE    default $HF_HOME/hub (the older HUGGINGFACE_HUB_CACHE is read too)
//   HF_HUB_OFFLINE  1/true/yes/on: never touch the network, use the cache only
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_ENDPOINT = "https://huggingface.co";

export interface HubSettings {
  /** No trailing slash. */
  endpoint: string;
  token?: string;
  /** The hub cache root that holds `models--org--name/`. */
  cacheDir: string;
  offline: boolean;
}

function isTrue(value: string | undefined): boolean {
  return ["1", "true", "yes", "on"].includes((value ?? "").trim().toLowerCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

function readToken(path: string): string | undefined {
  try {
    return nonEmpty(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  const hfHome =
    nonEmpty(env.HF_HOME) ??
    join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), ".cache"), "huggingface");
  const cacheDir =
    nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome, "hub");
  const token =
    nonEmpty(env.HF_TOKEN) ??
    nonEmpty(env.HUGGING_FACE_HUB_TOKEN) ??
    readToken(nonEmpty(env.HF_TOKEN_PATH) ?? join(hfHome, "token"));
  const settings: HubSettings = {
    endpoint: (nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, ""),
    cacheDir,
    offline: isTrue(env.HF_HUB_OFFLINE),
  };
  if (token) settings.token = token;
  return settings;
}
