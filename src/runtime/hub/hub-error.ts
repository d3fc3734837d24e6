// One error type for everything the hub client reports, with a `kind` tests and callers can
// branch on and a message that says what happened and what to do about it.

export type HubErrorKind =
  | "auth" // 401/403: gated or private repo, or a bad token
  | "repo-not-found"
  | "revision-not-found"
  | "file-not-found"
  | "offline-missing" // HF_HUB_OFFLINE=1 and the cache lacks files
  | "network" // the endpoint or the content host could not be reached, or stalled
  | "http" // any other status
  | "corrupt"; // a downloaded file's size or hash does not match what the hub announced

export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    readonly url?: string,
  ) {
    super(message);
    this.name = "HubError";
  }
}

/**
 * The error for a failed hub response. The error code decides before the status: the hub answers
 * 401 with `RepoNotFound` for a repo that does not exist (or that it hides from anonymous users).
 */
export function errorForResponse(
  res: { status: number; headers: Headers },
  url: string,
  what: { repo: string; revision: string; path?: string },
): HubError {
  const code = res.headers.get("x-error-code") ?? "";
  const message = res.headers.get("x-error-message");
  const detail = message ? ` (the hub says: ${message})` : "";
  if (code === "RepoNotFound" || (res.status === 404 && code === ""))
    return new HubError(
      "repo-not-found",
      `${what.repo}: no such model repository (HTTP ${res.status} from ${url})${detail}; check the id ` +
        `(a local folder of that name would have been used: none exists). A private repo answers the ` +
        `same to anyone without access: then set HF_TOKEN.`,
      url,
    );
  if (code === "RevisionNotFound")
    return new HubError(
      "revision-not-found",
      `${what.repo}: no revision '${what.revision}' (no such branch, tag or commit; HTTP ${res.status} from ${url})${detail}`,
      url,
    );
  if (code === "EntryNotFound")
    return new HubError(
      "file-not-found",
      `${what.repo}@${what.revision}: no file '${what.path ?? "?"}' (HTTP ${res.status} from ${url})${detail}`,
      url,
    );
  if (res.status === 401 || res.status === 403 || code === "GatedRepo")
    return new HubError(
      "auth",
      `${what.repo}: access denied (HTTP ${res.status} from ${url})${detail}. The repository is gated or ` +
        `private: set HF_TOKEN to a token of an account that may read it (or log in with ` +
        `huggingface-cli), and accept the model's licence on its hub page if it asks for that.`,
      url,
    );
  return new HubError("http", `${what.repo}: HTTP ${res.status} from ${url}${detail}`, url);
}
