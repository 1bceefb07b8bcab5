import type { Db } from "../db";
import { type Failure, fail, ok, type Result } from "../errors";
import type { ApiKey, PlatformKey, User } from "../generated/prisma/client";
import type { Credentials } from "../identity/session-cookie";
import { isSessionTokenShape, SESSION_PREFIX, sha256Hex } from "../identity/tokens";
import type { KeyCache, WorkspaceState } from "../keys/cache";
import { looksLikeKey } from "../keys/format";
import { lookupKey } from "../keys/lookup";
import { checkKeyUse } from "../keys/status";
import { looksLikePlatformKey } from "../platform/format";
import { lookupPlatformKey } from "../platform/lookup";
import { checkPlatformKeyUse } from "../platform/status";

// Who is calling, from the Authorization header or the dashboard's session cookie
// (with its CSRF header). Every path (the edge's runner, Yoga, the plain-HTTP
// routes) comes through here via buildContext. A bad credential is not an
// exception: it becomes an `invalid` principal, refused by every rule that needs
// someone, so public operations still answer with their own errors.

export type Principal =
  | { kind: "anonymous" }
  | { kind: "invalid"; failure: Failure }
  | { kind: "user"; user: User; sessionId: string }
  | { kind: "key"; key: ApiKey; workspace: WorkspaceState }
  /** The operator's own key (kwp_…): only its platform scopes, in any workspace. */
  | { kind: "platform"; key: PlatformKey };

export interface RequestFacts {
  now: Date;
  origin: string | null;
  ip: string | null;
}

export function parseBearer(header: string | null): Result<string | null> {
  if (header === null || header.trim() === "") return ok(null);
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim());
  if (!match?.[1]) {
    return fail("authentication_required", "Malformed Authorization header: expected `Bearer <token>`.");
  }
  return ok(match[1]);
}

/**
 * The request's one credential: the Authorization header when there is one, else the
 * dashboard's session cookie. The cookie is sent by the browser on its own, so it
 * counts only with the CSRF header, which a cross-site page cannot add.
 */
function chooseToken(credentials: Credentials): Result<string | null> {
  if (credentials.authorization !== null && credentials.authorization.trim() !== "") {
    return parseBearer(credentials.authorization);
  }
  if (credentials.cookie === null) return ok(null);
  // The cookie carries a session and nothing else: an API key set as a cookie is not one.
  if (!isSessionTokenShape(credentials.cookie)) return fail("authentication_required", "Malformed session cookie.");
  if (!credentials.csrfHeader) {
    return fail(
      "authentication_required",
      "A request signed in by the dashboard's session cookie must carry the x-graphql-yoga-csrf header.",
    );
  }
  return ok(credentials.cookie);
}

export async function resolvePrincipal(
  db: Db,
  cache: KeyCache,
  credentials: Credentials,
  facts: RequestFacts,
): Promise<Principal> {
  const chosen = chooseToken(credentials);
  if (!chosen.ok) return { kind: "invalid", failure: chosen.error };
  const token = chosen.value;
  if (token === null) return { kind: "anonymous" };
  if (token.startsWith(SESSION_PREFIX)) return resolveSession(db, token, facts.now);
  if (looksLikeKey(token)) return resolveKey(cache, token, facts);
  if (looksLikePlatformKey(token)) return resolvePlatformKey(cache, token, facts.now);
  return {
    kind: "invalid",
    failure: {
      code: "authentication_required",
      message:
        "Unrecognised bearer token: expected a session token (kws_…), an API key (sk_… / pk_…) or a platform key (kwp_…).",
    },
  };
}

async function resolveSession(db: Db, token: string, now: Date): Promise<Principal> {
  const invalid = (message: string): Principal => ({
    kind: "invalid",
    failure: { code: "authentication_required", message },
  });
  if (!isSessionTokenShape(token)) return invalid("Malformed session token.");
  const session = await db.session.findUnique({ where: { tokenHash: sha256Hex(token) }, include: { user: true } });
  if (!session) return invalid("Unknown session token: sign in again.");
  if (session.revokedAt) return invalid("This session was signed out: sign in again.");
  if (session.expiresAt <= now) return invalid("This session has expired: sign in again.");
  return { kind: "user", user: session.user, sessionId: session.id };
}

async function resolveKey(cache: KeyCache, token: string, facts: RequestFacts): Promise<Principal> {
  // Through the key cache: a warm key costs no database query; a malformed one none at all.
  const found = await lookupKey(cache, token);
  if (!found.found) {
    const failure: Failure = found.malformed
      ? { code: "invalid_key_format", message: found.malformed }
      : { code: "invalid_api_key", message: "Unknown API key." };
    return { kind: "invalid", failure };
  }
  const { key, workspace } = found;
  const refused = checkKeyUse(key, {
    now: facts.now,
    keysEnabled: workspace.keysEnabled,
    inactiveServices: found.inactiveServices,
    deployed: found.deployed,
    origin: facts.origin,
    ip: facts.ip,
  });
  if (refused) return { kind: "invalid", failure: refused };
  return { kind: "key", key, workspace };
}

async function resolvePlatformKey(cache: KeyCache, token: string, now: Date): Promise<Principal> {
  // The same cache as workspace keys: a warm platform key costs no database query.
  const found = await lookupPlatformKey(cache, token);
  if (!found.found) {
    const failure: Failure = found.malformed
      ? { code: "invalid_key_format", message: found.malformed }
      : { code: "invalid_api_key", message: "Unknown platform key." };
    return { kind: "invalid", failure };
  }
  const refused = checkPlatformKeyUse(found.key, now);
  return refused ? { kind: "invalid", failure: refused } : { kind: "platform", key: found.key };
}
