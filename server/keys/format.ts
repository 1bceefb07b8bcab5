import { hash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

// The key format, as small pure functions:
//   {sk|pk}_{test|live}_ + 32 random base64url chars (24 bytes = 192 bits)
//                        + 6-char base62 CRC32 checksum
// The checksum covers the prefix and the random part, so any single-character
// change (including sk→pk) is refused before the database is asked, and leaked keys
// are recognisable by pattern (secret scanners). Platform keys (server/platform/)
// seal their own prefix the same way, with sealKey and checksumMatches.

export type KeyType = "SECRET" | "PUBLISHABLE";
export type KeyEnvironment = "TEST" | "LIVE";

export interface ParsedKey {
  type: KeyType;
  environment: KeyEnvironment;
  prefix: string;
  random: string;
}

export type ParseResult = { ok: true; key: ParsedKey } | { ok: false; reason: string };

const RANDOM_BYTES = 24;
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
/** What follows any prefix: the random part, then the checksum. */
export const SEALED_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH;
/** The same as a pattern, with the random part and the checksum as groups. */
export const SEALED_PATTERN = "([A-Za-z0-9_-]{32})([0-9A-Za-z]{6})";
export const CHECKSUM_MISMATCH = "checksum mismatch: the key was mistyped or truncated";
export const KEY_LENGTH = 8 + SEALED_LENGTH;

const TYPE_BY_CODE = { sk: "SECRET", pk: "PUBLISHABLE" } as const;
const ENV_BY_CODE = { test: "TEST", live: "LIVE" } as const;
const SHAPE = new RegExp(`^(sk|pk)_(test|live)_${SEALED_PATTERN}$`);
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function keyPrefix(type: KeyType, environment: KeyEnvironment): string {
  return `${type === "SECRET" ? "sk" : "pk"}_${environment === "LIVE" ? "live" : "test"}_`;
}

export function checksum(body: string): string {
  let value = crc32(body);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** prefix + the random part + the checksum of both: every kind of Keyward key. */
export function sealKey(prefix: string, random = randomBytes(RANDOM_BYTES)): string {
  const body = prefix + random.toString("base64url");
  return body + checksum(body);
}

/** Whether the last characters are the checksum of everything before them. */
export function checksumMatches(value: string): boolean {
  return checksum(value.slice(0, -CHECKSUM_LENGTH)) === value.slice(-CHECKSUM_LENGTH);
}

/** A new key; its value is returned to the caller once and never stored. */
export function generateKey(type: KeyType, environment: KeyEnvironment, random = randomBytes(RANDOM_BYTES)): string {
  return sealKey(keyPrefix(type, environment), random);
}

/** Does the string look like a Keyward key at all (for routing a bearer token)? */
export function looksLikeKey(value: string): boolean {
  return /^(sk|pk)_/.test(value);
}

export function parseKey(value: string): ParseResult {
  if (value.length !== KEY_LENGTH) {
    return { ok: false, reason: `a key is ${KEY_LENGTH} characters long; this one has ${value.length}` };
  }
  const match = SHAPE.exec(value);
  if (!match)
    return {
      ok: false,
      reason: "not a Keyward key: expected sk_live_, sk_test_, pk_live_ or pk_test_ and base64url characters",
    };
  const [, typeCode, envCode, random] = match as unknown as [string, "sk" | "pk", "test" | "live", string];
  const prefix = `${typeCode}_${envCode}_`;
  if (!checksumMatches(value)) return { ok: false, reason: CHECKSUM_MISMATCH };
  return { ok: true, key: { type: TYPE_BY_CODE[typeCode], environment: ENV_BY_CODE[envCode], prefix, random } };
}

/** What is stored and looked up: SHA-256 of the whole key (192 random bits need no salt). */
export function hashKey(value: string): string {
  // The one-shot hash() is about three times cheaper than createHash() on this hot path.
  return hash("sha256", value, "hex");
}

/** The displayable beginning: prefix and the first 4 random characters. */
export function keyStart(value: string, prefixLength = 8): string {
  return value.slice(0, prefixLength + 4);
}
