import { CHECKSUM_MISMATCH, checksumMatches, keyStart, SEALED_LENGTH, SEALED_PATTERN, sealKey } from "../keys/format";

// Platform keys: `kwp_` + 32 random base64url characters + a 6-character checksum,
// sealed exactly like workspace keys (server/keys/format.ts) so a mistyped one is
// refused before any lookup and a leaked one matches `kwp_[A-Za-z0-9_-]{32}[0-9A-Za-z]{6}`.
// No test_/live_ part: a platform key belongs to the operator, not to a workspace's
// test or live data, and verifies keys of both (the answer's `environment` says which).

export const PLATFORM_PREFIX = "kwp_";
export const PLATFORM_KEY_LENGTH = PLATFORM_PREFIX.length + SEALED_LENGTH;
const SHAPE = new RegExp(`^${PLATFORM_PREFIX}${SEALED_PATTERN}$`);

export type PlatformParse = { ok: true } | { ok: false; reason: string };

/** A new platform key; its value is shown once and never stored. */
export function generatePlatformKey(random?: Parameters<typeof sealKey>[1]): string {
  return sealKey(PLATFORM_PREFIX, random);
}

/** Does a bearer token claim to be a platform key (so it is checked as one)? */
export function looksLikePlatformKey(value: string): boolean {
  return value.startsWith(PLATFORM_PREFIX);
}

export function parsePlatformKey(value: string): PlatformParse {
  if (value.length !== PLATFORM_KEY_LENGTH) {
    return {
      ok: false,
      reason: `a platform key is ${PLATFORM_KEY_LENGTH} characters long; this one has ${value.length}`,
    };
  }
  if (!SHAPE.test(value)) return { ok: false, reason: "not a platform key: expected kwp_ and base64url characters" };
  return checksumMatches(value) ? { ok: true } : { ok: false, reason: CHECKSUM_MISMATCH };
}

/** `kwp_` and the first 4 random characters, for recognising a key in lists. */
export function platformKeyStart(value: string): string {
  return keyStart(value, PLATFORM_PREFIX.length);
}
