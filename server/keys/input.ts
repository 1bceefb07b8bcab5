import { z } from "zod";
import { displayName } from "../validation";
import { normaliseCidr } from "./ips";
import { normaliseOrigin } from "./origins";
import { normaliseScopes } from "./scopes";

// Input rules for keys, shared by create, update and roll.

export const METADATA_MAX_BYTES = 4096;
export const NAME_MAX = 100;
export const REASON_MAX = 500;
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

export const DEFAULT_RATE_LIMITS = {
  SECRET: { limit: 1000, windowSeconds: 3600 },
  PUBLISHABLE: { limit: 100, windowSeconds: 3600 },
} as const;

/** A key's own override, or the default for its type. */
export function effectiveLimit(key: {
  type: keyof typeof DEFAULT_RATE_LIMITS;
  rateLimitLimit: number | null;
  rateLimitWindowSeconds: number | null;
}): { limit: number; windowSeconds: number } {
  return key.rateLimitLimit && key.rateLimitWindowSeconds
    ? { limit: key.rateLimitLimit, windowSeconds: key.rateLimitWindowSeconds }
    : DEFAULT_RATE_LIMITS[key.type];
}

// NUL cannot be stored in PostgreSQL text or jsonb, and lone surrogates are not UTF-8.
const cleanString = (value: string) => !value.includes("\u0000") && value.isWellFormed();

function cleanJson(value: unknown, depth: number): boolean {
  if (depth > 8) return false;
  if (typeof value === "string") return cleanString(value);
  if (Array.isArray(value)) return value.every((item) => cleanJson(item, depth + 1));
  if (value && typeof value === "object") {
    return Object.entries(value).every(([key, item]) => cleanString(key) && cleanJson(item, depth + 1));
  }
  return true;
}

export const metadataSchema = z
  .record(z.string(), z.unknown(), { message: "must be a JSON object" })
  // Depth first: JSON.stringify recurses, and a value nested thousands deep overflows its stack.
  .refine((value) => cleanJson(value, 0), {
    message: "must be valid UTF-8 without NUL characters, at most 8 levels deep",
    abort: true,
  })
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES, {
    message: `must be at most ${METADATA_MAX_BYTES} bytes as JSON`,
  });

export const scopesSchema = z
  .array(z.string().max(120, "scopes are at most 120 characters"))
  .max(100, "at most 100 scopes")
  .transform((scopes, ctx) => {
    const checked = normaliseScopes(scopes);
    if (checked.ok) return checked.scopes;
    ctx.addIssue({ code: "custom", message: checked.message });
    return z.NEVER;
  });

export const originsSchema = z
  .array(z.string())
  .max(50, "at most 50 origins")
  .transform((origins, ctx) => {
    const out = new Set<string>();
    for (const origin of origins) {
      const checked = normaliseOrigin(origin);
      if (!checked.ok) {
        ctx.addIssue({ code: "custom", message: checked.message });
        return z.NEVER;
      }
      out.add(checked.origin);
    }
    return [...out];
  });

export const ipsSchema = z
  .array(z.string().max(64, "addresses are at most 64 characters"))
  .max(100, "at most 100 CIDR blocks")
  .transform((cidrs, ctx) => {
    const out = new Set<string>();
    for (const cidr of cidrs) {
      const checked = normaliseCidr(cidr);
      if (!checked.ok) {
        ctx.addIssue({ code: "custom", message: checked.message });
        return z.NEVER;
      }
      out.add(checked.cidr);
    }
    return [...out];
  });

export const rateLimitSchema = z.object({
  limit: z.number().int("must be an integer").min(1, "must be at least 1").max(1_000_000, "must be at most 1000000"),
  windowSeconds: z
    .number()
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(86_400, "must be at most 86400 (one day)"),
});

export const keyName = displayName(NAME_MAX);

export const reasonSchema = z
  .string()
  .max(REASON_MAX, `must be at most ${REASON_MAX} characters`)
  .refine(cleanString, "must be valid UTF-8 without NUL characters");
