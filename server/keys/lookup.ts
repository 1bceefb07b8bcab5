import type { ApiKey } from "../generated/prisma/client";
import type { KeyCache, WorkspaceState } from "./cache";
import { hashKey, parseKey } from "./format";
import type { InactiveServices } from "./status";

// The one key lookup: a presented key string to its row, its workspace's state and
// its workspace's switched-off services, for a key used as a credential
// (auth/principal.ts) and for a key being verified (keys/verify.ts) alike. A malformed key is refused before any I/O; a warm key
// reads only the in-memory cache.

export type KeyLookup =
  | { found: true; key: ApiKey; workspace: WorkspaceState; inactiveServices: InactiveServices }
  | { found: false; malformed: string | null };

export async function lookupKey(cache: KeyCache, presented: string): Promise<KeyLookup> {
  const parsed = parseKey(presented);
  if (!parsed.ok) return { found: false, malformed: `Invalid API key: ${parsed.reason}.` };
  const hash = hashKey(presented);
  // Read synchronously when cached: an await per lookup is a microtask per request.
  const key = cache.cachedKey(hash) ?? (await cache.keyByHash(hash));
  const workspace = key ? (cache.cachedWorkspace(key.workspaceId) ?? (await cache.workspace(key.workspaceId))) : null;
  if (!key || !workspace) return { found: false, malformed: null };
  const inactiveServices =
    cache.cachedInactiveServices(key.workspaceId) ?? (await cache.inactiveServices(key.workspaceId));
  return { found: true, key, workspace, inactiveServices };
}
