import type { PlatformKey } from "../generated/prisma/client";
import type { KeyCache } from "../keys/cache";
import { hashKey } from "../keys/format";
import { parsePlatformKey } from "./format";

// The platform-key sibling of server/keys/lookup.ts, on the same cache: a malformed
// key is refused before any I/O, a warm one reads only memory, and a revocation
// drops it through the same invalidation message as a workspace key's.

export type PlatformLookup = { found: true; key: PlatformKey } | { found: false; malformed: string | null };

export async function lookupPlatformKey(cache: KeyCache, presented: string): Promise<PlatformLookup> {
  const parsed = parsePlatformKey(presented);
  if (!parsed.ok) return { found: false, malformed: `Invalid platform key: ${parsed.reason}.` };
  const hash = hashKey(presented);
  const key = cache.cachedPlatformKey(hash) ?? (await cache.platformKeyByHash(hash));
  return key ? { found: true, key } : { found: false, malformed: null };
}
