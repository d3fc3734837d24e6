// HTTP to the hub and its content host, on Node's own fetch. Redirects are followed by hand so
// that (1) the token is sent only to the endpoint's own origin, never to the host an LFS file
// redirects to (a signed URL needs none, and a third party must not see the token), and (2) a
// metadata request can stop at the hub's own redirect, whose headers carry X-Linked-Etag and
// X-Linked-Size. A connection failure becomes a HubError naming the URL.
import { HubError } from "./hub-error.ts";
import type { HubSettings } from "./hub-settings.ts";

const MAX_REDIRECTS = 10;

export interface HubRequestOptions {
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  /** Cancels the request (and the body, for GET). */
  signal?: AbortSignal;
  /**
   * Follow redirects to other origins (downloads: the LFS content host). Off for metadata: the
   * hub's redirect response is the answer (huggingface_hub follows only relative redirects there).
   */
  crossOrigin?: boolean;
}

export interface HubResponse {
  response: Response;
  /** The URL that answered (after redirects). */
  url: string;
}

function describeCause(error: unknown): string {
  const e = error as { cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

export async function hubRequest(
  url: string,
  settings: HubSettings,
  options: HubRequestOptions = {},
): Promise<HubResponse> {
  const endpointOrigin = new URL(settings.endpoint).origin;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const origin = new URL(current).origin;
    const headers: Record<string, string> = {
      // Sizes must be the bytes on disk: no transparent decompression.
      "accept-encoding": "identity",
      "user-agent": "halo-hub-client",
      ...options.headers,
    };
    if (settings.token && origin === endpointOrigin)
      headers.authorization = `Bearer ${settings.token}`;
    let response: Response;
    try {
      response = await fetch(current, {
        method: options.method ?? "GET",
        headers,
        redirect: "manual",
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      throw new HubError(
        "network",
        `cannot reach ${current}: ${describeCause(error)} (check the network, or HF_ENDPOINT; with the files already cached, HF_HUB_OFFLINE=1 works without it)`,
        current,
      );
    }
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location)
      return { response, url: current };
    const next = new URL(location, current);
    if (next.protocol !== "http:" && next.protocol !== "https:")
      throw new HubError(
        "http",
        `${current} redirects to a non-HTTP URL (${next.protocol})`,
        current,
      );
    if (!options.crossOrigin && next.origin !== origin) return { response, url: current };
    await response.body?.cancel();
    current = next.href;
  }
  throw new HubError("http", `too many redirects from ${url}`, url);
}
