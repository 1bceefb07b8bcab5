import type { Failure } from "../errors";
import type { ApiKey, Environment, Prisma } from "../generated/prisma/client";
import type { KeyManager } from "./grants";

// Which keys sign audience tokens (server/audience/tokens.ts). A key is stored as
// its hash, which cannot check an HMAC signature, so a signing key also keeps its
// full value sealed under the master key (keys/secret-box.ts). The secret exists
// only while the key is being made, so signing is switched on at creation (or
// carried over by a roll, which makes a new secret) and can never be switched on
// later; it can be switched off, which drops the sealed copy.

/** At most this many live signing keys per workspace and environment: a token without `kid` is tried against each. */
export const MAX_SIGNING_KEYS = 20;

export const SIGN_LATER =
  "canSignTokens: can be turned on only when a key is created (Keyward keeps no copy of an existing key's secret, only its hash); create a new secret key with canSignTokens: true";

/** Whether this caller may make a key with these settings sign tokens. */
export function checkSigningGrant(
  caller: KeyManager,
  settings: { type: "SECRET" | "PUBLISHABLE"; canSignTokens: boolean },
): Failure | null {
  if (!settings.canSignTokens) return null;
  if (settings.type !== "SECRET") {
    return {
      code: "validation_failed",
      message: "canSignTokens: only secret keys sign audience tokens (a publishable key is public)",
      field: "canSignTokens",
    };
  }
  // No escalation: a key that cannot sign does not make one that can.
  if (!caller.signsTokens) {
    return {
      code: "insufficient_permissions",
      message: "canSignTokens: an API key that cannot sign audience tokens cannot give a key that power.",
      field: "canSignTokens",
    };
  }
  return null;
}

/**
 * The signing keys of a workspace and environment that may ever sign again: not
 * revoked, not past a roll's grace (both final). An expired key stays listed,
 * since an update can move its expiry; the verifier checks each key's state.
 */
export function signingKeysWhere(workspaceId: string, environment: Environment, now: Date): Prisma.ApiKeyWhereInput {
  return {
    workspaceId,
    environment,
    type: "SECRET",
    canSignTokens: true,
    revokedAt: null,
    sealedSecret: { not: null },
    OR: [{ graceUntil: null }, { graceUntil: { gt: now } }],
  };
}

export async function checkSigningRoom(
  tx: Prisma.TransactionClient,
  workspaceId: string,
  environment: Environment,
  now: Date,
): Promise<Failure | null> {
  const count = await tx.apiKey.count({ where: signingKeysWhere(workspaceId, environment, now) });
  if (count < MAX_SIGNING_KEYS) return null;
  return {
    code: "validation_failed",
    message: `canSignTokens: a workspace has at most ${MAX_SIGNING_KEYS} signing keys per environment; revoke one first`,
    field: "canSignTokens",
  };
}

/** What an update does to signing: nothing, switch it off (dropping the sealed copy), or a refusal. */
export function signingChange(
  key: Pick<ApiKey, "canSignTokens">,
  wanted: boolean | null | undefined,
): Failure | Prisma.ApiKeyUpdateInput {
  if (wanted == null || wanted === key.canSignTokens) return {};
  if (wanted) return { code: "validation_failed", message: SIGN_LATER, field: "canSignTokens" };
  return { canSignTokens: false, sealedSecret: null };
}
