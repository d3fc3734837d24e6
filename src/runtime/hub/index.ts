// The hub client's public surface.
export { hubSettings, DEFAULT_ENDPOINT, type HubSettings } from "./hub-settings.ts";
export { isHubId, parseHubId, repoFolderName, isCommitHash } from "./hub-id.ts";
export { HubError, type HubErrorKind } from "./hub-error.ts";
export { RepoCache } from "./hub-cache.ts";
export {
  resolveHubModel,
  cachedSnapshot,
  COMPANION_FILES,
  type HubModelRequest,
  type HubSnapshot,
  type HubResolveOptions,
  type DownloadProgress,
} from "./hub-snapshot.ts";
