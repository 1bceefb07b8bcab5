// The model of the key lifecycle that test/model/key-lifecycle.test.ts runs the real
// server against: plain maps and numbers, written from the README (`## API keys`,
// `## Verifying keys`), not from server/keys. Every verify answer the server gives
// must be the one `predictVerify` derives here.

export type KeyType = "SECRET" | "PUBLISHABLE";
export type Environment = "TEST" | "LIVE";

export const ALLOWED_ORIGIN = "https://app.example.com";
export const OTHER_ORIGIN = "https://other.example.com";
/** The block a restricted secret key allows; IP_INSIDE is in it, IP_OUTSIDE is not. */
export const IP_BLOCK = "203.0.113.0/24";
export const IP_INSIDE = "203.0.113.9";
export const IP_OUTSIDE = "198.51.100.7";

export const DEFAULT_LIMITS: Record<KeyType, RateLimit> = {
  SECRET: { limit: 1000, windowSeconds: 3600 },
  PUBLISHABLE: { limit: 100, windowSeconds: 3600 },
};

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

export interface ModelKey {
  /** The real key's id and value: the model needs them to name what it predicts about. */
  id: string;
  secret: string;
  type: KeyType;
  environment: Environment;
  scopes: string[];
  allowedOrigins: string[];
  allowedIps: string[];
  /** Milliseconds on the injected clock; null: none. */
  expiresAt: number | null;
  graceUntil: number | null;
  revoked: boolean;
  /** The id of the key it was rolled into. */
  rolledTo: string | null;
  rateLimit: RateLimit | null;
}

export interface Model {
  now: number;
  keysEnabled: boolean;
  keys: ModelKey[];
  /**
   * Points spent per key and limit. The README says only "per key"; the server counts
   * per (key, limit, window length) (server/keys/ratelimit.ts), so a key whose limit
   * changes starts a fresh count, and resumes the old one if the limit changes back.
   */
  spent: Map<string, number>;
}

export interface VerifyAsk {
  origin: string | null;
  ip: string | null;
  requiredScopes: string[];
}

export interface Predicted {
  code: string;
  keyId: string | null;
  /** What the answer's ratelimit.remaining says (a valid answer only). */
  remaining: number | null;
}

export function isExpired(key: ModelKey, now: number): boolean {
  return (key.expiresAt !== null && key.expiresAt <= now) || (key.graceUntil !== null && key.graceUntil <= now);
}

export type Status = "ACTIVE" | "ROLLING" | "EXPIRED" | "REVOKED";

export function status(key: ModelKey, now: number): Status {
  if (key.revoked) return "REVOKED";
  if (isExpired(key, now)) return "EXPIRED";
  return key.graceUntil !== null ? "ROLLING" : "ACTIVE";
}

const limitOf = (key: ModelKey) => key.rateLimit ?? DEFAULT_LIMITS[key.type];

/** The documented order: revoked → switch → expired (incl. grace) → origin / IP → scopes → rate limit. */
export function predictVerify(model: Model, key: ModelKey | null, ask: VerifyAsk): Predicted {
  if (!key) return { code: "not_found", keyId: null, remaining: null };
  const refused = (code: string): Predicted => ({ code, keyId: key.id, remaining: null });
  if (key.revoked) return refused("invalid_api_key");
  if (!model.keysEnabled) return refused("keys_disabled");
  if (isExpired(key, model.now)) return refused("key_expired");
  if (key.type === "PUBLISHABLE" && (ask.origin === null || !key.allowedOrigins.includes(ask.origin))) {
    return refused("origin_not_allowed");
  }
  if (key.type === "SECRET" && key.allowedIps.length > 0 && ask.ip !== IP_INSIDE) return refused("ip_not_allowed");
  if (ask.requiredScopes.some((scope) => !key.scopes.includes(scope))) return refused("insufficient_scope");
  const { limit, windowSeconds } = limitOf(key);
  const counter = `${key.id}:${limit}:${windowSeconds}`;
  const spent = model.spent.get(counter) ?? 0;
  if (spent >= limit) return refused("rate_limit_exceeded");
  model.spent.set(counter, spent + 1);
  return { code: "VALID", keyId: key.id, remaining: limit - spent - 1 };
}

/** Why a roll is refused (the words its message must contain), or null when it goes through. */
export function rollRefusal(key: ModelKey, now: number): string | null {
  if (key.revoked) return "revoked";
  if (isExpired(key, now)) return "expired";
  if (key.rolledTo !== null) return "already rolled";
  return null;
}

/** The key a roll makes: every setting copied, nothing spent. */
export function successor(key: ModelKey, id: string, secret: string): ModelKey {
  return {
    ...key,
    id,
    secret,
    scopes: [...key.scopes],
    allowedOrigins: [...key.allowedOrigins],
    allowedIps: [...key.allowedIps],
    graceUntil: null,
    revoked: false,
    rolledTo: null,
  };
}
