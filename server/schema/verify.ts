import { roleAllows } from "../auth/permissions";
import { builder } from "../builder";
import type { Context } from "../context";
import { errorCodes } from "../errors";
import type { ApiKey } from "../generated/prisma/client";
import { effectiveScopes } from "../keys/scopes";
import { verifyKey } from "../keys/verify";
import { ApiKeyRef } from "./apikey";
import { ApiKeyTypeEnum, EnvironmentEnum } from "./apikey-types";
import { apiError } from "./result";

const VerifyCodeEnum = builder.enumType("VerifyCode", {
  description: "VALID, or the catalog code saying why the key was refused (see /docs/errors).",
  values: ["VALID", ...errorCodes] as const,
});

interface RateLimitState {
  limit: number;
  remaining: number;
  resetAt: Date;
}

const RateLimitStateRef = builder.objectRef<RateLimitState>("RateLimitState").implement({
  description: "The verified key's rate limit after this call.",
  fields: (t) => ({
    limit: t.exposeInt("limit"),
    remaining: t.exposeInt("remaining"),
    resetAt: t.expose("resetAt", { type: "DateTime", description: "When the current window ends." }),
  }),
});

type VerifyShape = Awaited<ReturnType<typeof verifyKey>>;

const VerifyResultRef = builder.objectRef<VerifyShape>("VerifyResult").implement({
  description:
    "The answer about one key. Always data: a refused key is `valid: false` with its code, never a GraphQL error.",
  fields: (t) => ({
    valid: t.boolean({ resolve: (r) => r.code === "VALID" }),
    code: t.field({ type: VerifyCodeEnum, resolve: (r) => r.code }),
    message: t.exposeString("message"),
    keyId: t.id({ nullable: true, resolve: (r) => r.key?.id ?? null }),
    workspaceId: t.id({ nullable: true, resolve: (r) => r.key?.workspaceId ?? null }),
    environment: t.field({ type: EnvironmentEnum, nullable: true, resolve: (r) => r.key?.environment ?? null }),
    type: t.field({ type: ApiKeyTypeEnum, nullable: true, resolve: (r) => r.key?.type ?? null }),
    scopes: t.stringList({ nullable: true, resolve: (r) => (r.key ? effectiveScopes(r.key) : null) }),
    expiresAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => r.key?.expiresAt ?? null }),
    metadata: t.field({ type: "JSON", nullable: true, resolve: (r) => r.key?.metadata ?? null }),
    ratelimit: t.field({ type: RateLimitStateRef, nullable: true, resolve: (r) => r.ratelimit }),
    audience: t.string({ nullable: true, description: "Reserved for audience tokens.", resolve: () => null }),
    deploymentVersion: t.int({ nullable: true, description: "Reserved for deployments.", resolve: () => null }),
  }),
});

const VerifyApiKeyInput = builder.inputType("VerifyApiKeyInput", {
  fields: (t) => ({
    key: t.string({ required: true, description: "The full key your customer sent you." }),
    requiredScopes: t.stringList({ description: "Scopes the key must hold for this request." }),
    origin: t.string({ description: "The browser Origin your customer's request came with (publishable keys)." }),
    ip: t.string({ description: "Your customer's IP address (secret keys with an IP allowlist)." }),
  }),
});

/**
 * Who may verify which keys: a key with keys:verify, its own workspace and
 * environment; a key holding `*` (made by a platform admin), every workspace in its
 * environment; a user whose role has keys:verify there; a platform admin, all.
 */
function verifyGate(ctx: Context) {
  return async (key: ApiKey): Promise<boolean> => {
    const p = ctx.principal;
    if (p.kind === "key") {
      if (p.key.environment !== key.environment) return false;
      if (p.key.scopes.includes("*")) return true;
      return p.workspace.id === key.workspaceId && p.key.scopes.includes("keys:verify");
    }
    if (p.kind !== "user") return false;
    if (p.user.isPlatformAdmin) return true;
    const membership = await ctx.loaders.membership.load(`${p.user.id}:${key.workspaceId}`);
    return membership !== null && roleAllows(membership.role, "keys:verify");
  };
}

const MAX_KEY_INPUT = 512;

builder.mutationField("verifyApiKey", (t) =>
  t.field({
    type: VerifyResultRef,
    description:
      "Check a key your customer sent: always answers with data. Needs keys:verify on the key's workspace (or a platform verifier); keys you cannot verify answer not_found, like unknown keys.",
    args: { input: t.arg({ type: VerifyApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const scopes = input.requiredScopes ?? [];
      if (scopes.length > 100) {
        throw apiError({ code: "validation_failed", message: "requiredScopes: at most 100", field: "requiredScopes" });
      }
      return verifyKey(
        { cache: ctx.keys.cache, limits: ctx.keys.limits, usage: ctx.keys.usage, now: ctx.now },
        verifyGate(ctx),
        // A 10 KB "key" is refused by length without being hashed whole.
        {
          key: input.key.slice(0, MAX_KEY_INPUT),
          requiredScopes: scopes,
          origin: input.origin ?? null,
          ip: input.ip ?? null,
        },
      );
    },
  }),
);

interface UsageBucket {
  hour: Date;
  outcome: string;
  count: number;
}

const UsageBucketRef = builder.objectRef<UsageBucket>("KeyUsage").implement({
  description: "Verifications of a key in one hour with one outcome.",
  fields: (t) => ({
    hour: t.expose("hour", { type: "DateTime", description: "Start of the hour (UTC)." }),
    outcome: t.field({ type: VerifyCodeEnum, resolve: (u) => u.outcome as "VALID" }),
    count: t.exposeInt("count"),
  }),
});

const MAX_RANGE_MS = 93 * 24 * 3600_000;

builder.objectField(ApiKeyRef, "usage", (t) =>
  t.field({
    type: [UsageBucketRef],
    description:
      "Verification counts per hour and outcome in [from, to), at most 93 days. Written in batches every few seconds.",
    args: { from: t.arg({ type: "DateTime", required: true }), to: t.arg({ type: "DateTime", required: true }) },
    // One query per key: under apiKeys(first: 100) it runs 100 times (server/http/cost.ts).
    extensions: { cost: 1 },
    resolve: async (key, { from, to }, ctx) => {
      if (to <= from || to.getTime() - from.getTime() > MAX_RANGE_MS) {
        throw apiError({
          code: "validation_failed",
          message: "to: must be after from, at most 93 days later",
          field: "to",
        });
      }
      return ctx.db.apiKeyUsage.findMany({
        where: { keyId: key.id, hour: { gte: from, lt: to } },
        orderBy: [{ hour: "asc" }, { outcome: "asc" }],
        select: { hour: true, outcome: true, count: true },
      });
    },
  }),
);
