import { hash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

// The key format, as small pure functions:
//   {sk|pk}_{test|live}_ + 32 random base64url chars (24 bytes = 192 bits)
//                        + 6-char base62 CRC32 checksum
// The checksum covers the prefix and the random part, so any single-character
// change (including sk→pk) is refused before the database is asked, and leaked keys
// are recognisable by pattern (secret scanners).

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
export const KEY_LENGTH = 8 + RANDOM_LENGTH + CHECKSUM_LENGTH;

const TYPE_BY_CODE = { sk: "SECRET", pk: "PUBLISHABLE" } as const;
const ENV_BY_CODE = { test: "TEST", live: "LIVE" } as const;
const SHAPE = /^(sk|pk)_(test|live)_([A-Za-z0-9_-]{32})([0-9A-Za-z]{6})$/;
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

/** A new key; its value is returned to the caller once and never stored. */
export function generateKey(type: KeyType, environment: KeyEnvironment, random = randomBytes(RANDOM_BYTES)): string {
  const body = keyPrefix(type, environment) + random.toString("base64url");
  return body + checksum(body);
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
  const [, typeCode, envCode, random, sum] = match as unknown as [string, "sk" | "pk", "test" | "live", string, string];
  const prefix = `${typeCode}_${envCode}_`;
  if (checksum(prefix + random) !== sum)
    return { ok: false, reason: "checksum mismatch: the key was mistyped or truncated" };
  return { ok: true, key: { type: TYPE_BY_CODE[typeCode], environment: ENV_BY_CODE[envCode], prefix, random } };
}

/** What is stored and looked up: SHA-256 of the whole key (192 random bits need no salt). */
export function hashKey(value: string): string {
  // The one-shot hash() is about three times cheaper than createHash() on this hot path.
  return hash("sha256", value, "hex");
}

/** The displayable beginning: prefix and the first 4 random characters. */
export function keyStart(value: string): string {
  return value.slice(0, 8 + 4);
}
