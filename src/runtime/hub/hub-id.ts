// Hub repository ids (`org/name`) and how they name folders in the cache.
//
// The rule that tells a hub id from a relative folder path lives in src/runtime/model-source.ts
// (an existing folder wins); this file only says what a well-formed id looks like, following
// huggingface_hub's `validate_repo_id`: word characters, `-` and `.`, at most 96 per part, no
// `--` or `..`, no part starting or ending with `-` or `.`.

const PART = /^(?![-.])[\w.-]{1,96}(?<![-.])$/;

/** `org/name` as given, or undefined when it is not a well-formed hub id. */
export function parseHubId(value: string): { org: string; name: string } | undefined {
  const parts = value.split("/");
  if (parts.length !== 2) return undefined;
  const [org, name] = parts as [string, string];
  if (value.includes("--") || value.includes("..") || value.endsWith(".git")) return undefined;
  return PART.test(org) && PART.test(name) ? { org, name } : undefined;
}

export function isHubId(value: string): boolean {
  return parseHubId(value) !== undefined;
}

/** The repository's folder under the hub cache: `models--org--name`. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split("/").join("--")}`;
}

/** A full commit id (what `refs/<branch>` holds and `snapshots/` are named by). */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}
