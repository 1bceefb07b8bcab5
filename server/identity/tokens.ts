import { hash, randomBytes } from "node:crypto";

// Session tokens are opaque: `kws_` + 32 random bytes in base64url. Only their
// SHA-256 is stored, so a database leak yields no usable session.

export const SESSION_PREFIX = "kws_";
const SESSION_TOKEN = /^kws_[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): string {
  return SESSION_PREFIX + randomBytes(32).toString("base64url");
}

export function isSessionTokenShape(token: string): boolean {
  return SESSION_TOKEN.test(token);
}

export function sha256Hex(value: string): string {
  return hash("sha256", value, "hex");
}
