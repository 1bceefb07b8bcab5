import type { ApiKey } from "../generated/prisma/client";
import type { KeyCache, WorkspaceState } from "./cache";
import { hashKey, parseKey } from "./format";
import type { InactiveServices } from "./status";

// The one key lookup: a presented key string to its row, its workspace's state and
// its workspace's switched-off services, for a key used as a credential
// (auth/principal.ts) and for a key being verified (keys/verify.ts) alike. A malformed key is refused before any I/O; a warm key
// reads only the in-memory cache.
//
// In a workspace that requires deploys, the key answered is the key as the latest
// deployment published it (server/deployments/snapshot.ts): its scopes, allowlists,
// expiry, limits and metadata from the deployment, its identity from its row. A key
// the deployment does not list is `deployed: false`; a key revoked with `immediate`
// is answered as its own (revoked) row whatever the deployment says.
//
// Keys imported from another system (import.ts) may lack Keyward's format or
// checksum. A key that fails the format check is still looked up by hash when it
// begins with the prefix of such an import (a short list held in memory); if
// nothing is found it is refused exactly as before, as malformed. So a workspace
// without foreign imports keeps the no-I/O refusal, and a made-up key with an
// imported prefix costs what a made-up key with a valid checksum always did (a
// hash, then one indexed read, negatively cached): CRC32 is public, so the
// checksum never bounded that cost. README "Moving keys in and out" has more.

export type KeyLookup =
  | {
      found: true;
      key: ApiKey;
      workspace: WorkspaceState;
      inactiveServices: InactiveServices;
      /** false: the workspace requires deploys and its latest deployment does not list this key. */
      deployed: boolean;
      /** The deployment that answered; null where the workspace does not require deploys. */
      deploymentVersion: number | null;
    }
  | { found: false; malformed: string | null };

export async function lookupKey(cache: KeyCache, presented: string): Promise<KeyLookup> {
  const parsed = parseKey(presented);
  const malformed = parsed.ok ? null : `Invalid API key: ${parsed.reason}.`;
  if (malformed !== null && !(await mayBeImported(cache, presented))) return { found: false, malformed };
  const hash = hashKey(presented);
  // Read synchronously when cached: an await per lookup is a microtask per request.
  const key = cache.cachedKey(hash) ?? (await cache.keyByHash(hash));
  const workspace = key ? (cache.cachedWorkspace(key.workspaceId) ?? (await cache.workspace(key.workspaceId))) : null;
  if (!key || !workspace) return { found: false, malformed };
  const inactiveServices =
    cache.cachedInactiveServices(key.workspaceId) ?? (await cache.inactiveServices(key.workspaceId));
  if (!workspace.requireDeploy) {
    return { found: true, key, workspace, inactiveServices, deployed: true, deploymentVersion: null };
  }
  const deployment = workspace.deployment;
  if (!deployment) return { found: true, key, workspace, inactiveServices, deployed: false, deploymentVersion: null };
  const version = deployment.version;
  if (key.revokedImmediately)
    return { found: true, key, workspace, inactiveServices, deployed: true, deploymentVersion: version };
  // null is an answer (not listed), not a miss: only undefined goes to the database.
  const held = cache.cachedDeployedKey(deployment.id, hash);
  const published = held !== undefined ? held : await cache.deployedKey(deployment.id, hash);
  return published
    ? {
        found: true,
        key: published.apply(key),
        workspace,
        inactiveServices,
        deployed: true,
        deploymentVersion: version,
      }
    : { found: true, key, workspace, inactiveServices, deployed: false, deploymentVersion: version };
}

/** Whether a key failing the format check begins like an imported foreign key. */
async function mayBeImported(cache: KeyCache, presented: string): Promise<boolean> {
  const prefixes = cache.cachedImportedPrefixes() ?? (await cache.importedPrefixes());
  for (const prefix of prefixes) if (presented.startsWith(prefix)) return true;
  return false;
}
