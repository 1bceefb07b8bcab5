import { decodeProtectedHeader, errors, jwtVerify } from "jose";
import type { ApiKey } from "../generated/prisma/client";
import { keyStatus } from "../keys/status";
import type { AudienceTokens, AudienceVerdict } from "../keys/verify";
import type { AudienceCache, Signer, VerifiedToken } from "./cache";

// An audience token: a JWT the customer's backend signs (HS256) with one of its
// secret keys that may sign, naming one audience of the workspace:
//   header  { "alg": "HS256", "typ": "JWT", "kid": "<key id>" }   (kid optional)
//   payload { "audience": "enterprise_b", "iat": …, "exp": … }     (exp required)
// The browser sends it beside the workspace's publishable key. It counts only
// when signed by a signing key of the publishable key's own workspace and
// environment, unexpired (and past any nbf) within CLOCK_SKEW_SECONDS, and naming
// a node of the workspace's tree. jose does the JWT work; every other algorithm,
// `none` included, is refused before any key is tried. A token whose signature
// checked out is remembered (audience/cache.ts), so its next uses only recheck
// the signer's state, the time claims and the tree.

export const CLOCK_SKEW_SECONDS = 30;
const ALGORITHM = "HS256";

const refuse = (message: string): AudienceVerdict => ({ ok: false, message });

function usable(signer: Signer, now: Date): boolean {
  const status = keyStatus(signer.state, now);
  return status === "ACTIVE" || status === "ROLLING";
}

function claimFailure(error: unknown): AudienceVerdict {
  if (error instanceof errors.JWTExpired) return refuse("The audience token has expired.");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === "nbf"
      ? refuse("The audience token is not valid yet (nbf).")
      : refuse(`The audience token's ${error.claim} claim is missing or invalid.`);
  }
  return refuse("The audience token is malformed.");
}

export async function checkAudienceToken(
  cache: AudienceCache,
  key: Pick<ApiKey, "workspaceId" | "environment">,
  token: string,
  now: Date,
): Promise<AudienceVerdict> {
  const set =
    cache.cachedSigners(key.workspaceId, key.environment) ??
    (await cache.signers(key.workspaceId, key.environment, now));
  const known = cache.verified(token, set);
  if (known && usable(known.signer, now)) return stillValid(cache, key.workspaceId, known, now);

  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return refuse("The audience token is not a signed JWT (header.payload.signature).");
  }
  if (header.alg !== ALGORITHM)
    return refuse(`Audience tokens are signed with ${ALGORITHM}; no other alg is accepted.`);
  const candidates = set.signers.filter(
    (signer) => usable(signer, now) && (header.kid === undefined || signer.keyId === header.kid),
  );
  for (const signer of candidates) {
    try {
      const { payload } = await jwtVerify(token, signer.key, {
        algorithms: [ALGORITHM],
        requiredClaims: ["exp"],
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
      });
      const verified = { set, signer, audience: payload.audience, exp: payload.exp as number, nbf: payload.nbf };
      cache.remember(token, verified);
      return await audienceOf(cache, key.workspaceId, verified.audience);
    } catch (error) {
      // Another signer may have made it; any other failure is final.
      if (error instanceof errors.JWSSignatureVerificationFailed) continue;
      return claimFailure(error);
    }
  }
  return refuse(
    header.kid === undefined
      ? "The audience token's signature matches no signing key of this workspace and environment."
      : "The audience token's kid names no signing key of this workspace and environment that matches its signature.",
  );
}

/** A remembered token's time claims, checked as jose checks them (same skew), for this use. */
function stillValid(cache: AudienceCache, workspaceId: string, known: VerifiedToken, now: Date) {
  const at = Math.floor(now.getTime() / 1000);
  if (known.exp <= at - CLOCK_SKEW_SECONDS) return refuse("The audience token has expired.");
  if (known.nbf !== undefined && known.nbf > at + CLOCK_SKEW_SECONDS) {
    return refuse("The audience token is not valid yet (nbf).");
  }
  return audienceOf(cache, workspaceId, known.audience);
}

async function audienceOf(cache: AudienceCache, workspaceId: string, claim: unknown): Promise<AudienceVerdict> {
  if (typeof claim !== "string") return refuse("The audience token has no audience claim (a string).");
  const tree = cache.cachedTree(workspaceId) ?? (await cache.tree(workspaceId));
  const node = tree.get(claim);
  if (!node) return refuse("The audience token names an audience this workspace does not have.");
  return { ok: true, audience: node.name, path: node.path };
}

/** The verifier's view of audience tokens (keys/verify.ts), over this cache. */
export function audienceTokens(cache: AudienceCache): AudienceTokens {
  return { check: (key, token, now) => checkAudienceToken(cache, key, token, now) };
}
