import { verifiableBy } from "../auth/access";
import { builder } from "../builder";
import { errorCodes } from "../errors";
import { type VerifyResultView, verifyKey, verifyRequest, verifyResultView } from "../keys/verify";
import { noteVerification } from "../observability/note";
import { ApiKeyTypeEnum, EnvironmentEnum } from "./apikey-types";
import { ApiKeyRef } from "./refs";
import { unwrap } from "./result";
import { checkUsageRange } from "./usage-range";

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

const VerifyResultRef = builder.objectRef<VerifyResultView>("VerifyResult").implement({
  description:
    "The answer about one key. Always data: a refused key is `valid: false` with its code, never a GraphQL error.",
  fields: (t) => ({
    valid: t.exposeBoolean("valid"),
    code: t.expose("code", { type: VerifyCodeEnum }),
    message: t.exposeString("message"),
    keyId: t.exposeID("keyId", { nullable: true }),
    workspaceId: t.exposeID("workspaceId", { nullable: true }),
    environment: t.expose("environment", { type: EnvironmentEnum, nullable: true }),
    type: t.expose("type", { type: ApiKeyTypeEnum, nullable: true }),
    scopes: t.exposeStringList("scopes", { nullable: true }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    metadata: t.expose("metadata", { type: "JSON", nullable: true }),
    ratelimit: t.expose("ratelimit", { type: RateLimitStateRef, nullable: true }),
    audience: t.exposeString("audience", {
      nullable: true,
      description: "The audience a valid token named (see VerifyApiKeyInput.token); null without a token.",
    }),
    audiencePath: t.exposeStringList("audiencePath", {
      nullable: true,
      description: "That audience, then each of its ancestors up to the root, e.g. [enterprise_b, enterprise].",
    }),
    deploymentVersion: t.exposeInt("deploymentVersion", {
      nullable: true,
      description:
        "The deployment that answered, in a workspace that requires deploys (requireDeploy); null elsewhere, and for keys refused before their workspace is known.",
    }),
  }),
});

const VerifyApiKeyInput = builder.inputType("VerifyApiKeyInput", {
  fields: (t) => ({
    key: t.string({ required: true, description: "The full key your customer sent you." }),
    requiredScopes: t.stringList({ description: "Scopes the key must hold for this request." }),
    origin: t.string({ description: "The browser Origin your customer's request came with (publishable keys)." }),
    ip: t.string({ description: "Your customer's IP address (secret keys with an IP allowlist)." }),
    token: t.string({
      description:
        "An audience token sent with the key: a JWT signed (HS256) by a secret key of the same workspace and environment with canSignTokens, naming an audience. Required for publishable keys when the workspace has requireAudienceToken.",
    }),
  }),
});

builder.mutationField("verifyApiKey", (t) =>
  t.field({
    type: VerifyResultRef,
    description:
      "Check a key your customer sent: always answers with data. Needs keys:verify on the key's workspace (or a platform key with keys:verify, for every workspace); keys you cannot verify answer not_found, like unknown keys.",
    args: { input: t.arg({ type: VerifyApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const request = unwrap(verifyRequest(input));
      const outcome = await verifyKey(
        {
          cache: ctx.keys.cache,
          limits: ctx.keys.limits,
          usage: ctx.keys.usage,
          audiences: ctx.keys.audiences,
          now: ctx.now,
        },
        verifiableBy(ctx),
        request,
      );
      // Counted by path and outcome in the metrics (server/observability/metrics.ts).
      noteVerification(ctx.meta, outcome.code);
      // Every verification made with a platform key is a use of it, counted by outcome.
      if (ctx.principal.kind === "platform") {
        ctx.keys.usage.usePlatformKey(ctx.principal.key.id, "verify", outcome.code, ctx.now);
      }
      return verifyResultView(outcome);
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

builder.objectField(ApiKeyRef, "usage", (t) =>
  t.field({
    type: [UsageBucketRef],
    description:
      "Verification counts per hour and outcome in [from, to), at most 93 days. Written in batches every few seconds.",
    args: { from: t.arg({ type: "DateTime", required: true }), to: t.arg({ type: "DateTime", required: true }) },
    // One query per key: under apiKeys(first: 100) it runs 100 times (server/http/cost.ts).
    extensions: { cost: 1 },
    resolve: async (key, { from, to }, ctx) => {
      checkUsageRange(from, to);
      return ctx.db.apiKeyUsage.findMany({
        where: { keyId: key.id, hour: { gte: from, lt: to } },
        orderBy: [{ hour: "asc" }, { outcome: "asc" }],
        select: { hour: true, outcome: true, count: true },
      });
    },
  }),
);
