import { allow, deny, shield, rule as shieldRule } from "graphql-shield";
import type { Context } from "../context";
import { isDatabaseUnavailable } from "../db-unavailable";
import { apiError } from "../errors";
import type { User, Workspace } from "../generated/prisma/client";
import {
  platformAdmin,
  requireApiKey,
  requireService,
  requireWorkspace,
  signedInUser,
  verifierCaller,
  type WorkspaceRef,
  workspaceReader,
} from "./access";
import { requireAudience, requireAudienceWriter } from "./audience-access";
import type { Permission } from "./permissions";
import { requireWebhookDelivery, requireWebhookEndpoint } from "./webhook-access";

// The permission tree. Deny is the fallback: a type or field added to the schema
// answers insufficient_permissions until it is listed here on purpose.

type RuleFunction = Parameters<ReturnType<typeof shieldRule>>[0];

// graphql-shield turns a rule that throws into a denial (insufficient_permissions).
// A rule that could not read the database was not refused: it says the database is down.
const rule =
  (options: Parameters<typeof shieldRule>[0]) =>
  (check: RuleFunction): ReturnType<ReturnType<typeof shieldRule>> =>
    shieldRule(options)(async (parent, args, ctx, info) => {
      try {
        return await check(parent, args, ctx, info);
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        return apiError({ code: "database_unavailable", message: "The database is unavailable; retry shortly." });
      }
    });

const signedIn = rule({ cache: "contextual" })((_parent, _args, ctx: Context) => {
  const user = signedInUser(ctx);
  return user.ok ? true : apiError(user.error);
});

/** A signed-in user, or a platform key with workspaces:read; a publishable key is not told it tried to write. */
const readsWorkspaces = rule({ cache: "contextual" })((_parent, _args, ctx: Context) => {
  const reader = workspaceReader(ctx);
  return reader.ok ? true : apiError(reader.error);
});

/** Platform admins only: platform keys act across every workspace. */
const platformAdminReads = rule({ cache: "contextual" })((_parent, _args, ctx: Context) => {
  const admin = platformAdmin(ctx, false);
  return admin.ok ? true : apiError(admin.error);
});

const platformAdminWrites = rule({ cache: "contextual" })((_parent, _args, ctx: Context) => {
  const admin = platformAdmin(ctx, true);
  return admin.ok ? true : apiError(admin.error);
});

/** Anyone, except a caller who sent a credential that does not work: they should hear so. */
const noBadCredential = rule({ cache: "contextual" })((_parent, _args, ctx: Context) =>
  ctx.principal.kind === "invalid" ? apiError(ctx.principal.failure) : true,
);

// Rules that read arguments must not be cached across fields ("contextual" would
// reuse one workspace's answer for another).
const inWorkspace = (permission: Permission, refOf: (args: Record<string, unknown>) => WorkspaceRef) =>
  rule({ cache: "no_cache" })(async (_parent, args: Record<string, unknown>, ctx: Context) => {
    const access = await requireWorkspace(ctx, refOf(args), permission);
    return access.ok ? true : apiError(access.error);
  });

const onApiKey = (permission: Permission, idOf: (args: Record<string, unknown>) => string) =>
  rule({ cache: "no_cache" })(async (_parent, args: Record<string, unknown>, ctx: Context) => {
    const access = await requireApiKey(ctx, idOf(args), permission);
    return access.ok ? true : apiError(access.error);
  });

const audienceWriter = (refOf: (args: Record<string, unknown>) => WorkspaceRef) =>
  rule({ cache: "no_cache" })(async (_parent, args: Record<string, unknown>, ctx: Context) => {
    const access = await requireAudienceWriter(ctx, refOf(args));
    return access.ok ? true : apiError(access.error);
  });

const onAudience = (idOf: (args: Record<string, unknown>) => string) =>
  rule({ cache: "no_cache" })(async (_parent, args: Record<string, unknown>, ctx: Context) => {
    const access = await requireAudience(ctx, idOf(args));
    return access.ok ? true : apiError(access.error);
  });

const onService = (permission: Permission, idOf: (args: Record<string, unknown>) => string) =>
  rule({ cache: "no_cache" })(async (_parent, args: Record<string, unknown>, ctx: Context) => {
    const access = await requireService(ctx, idOf(args), permission);
    return access.ok ? true : apiError(access.error);
  });

const onWebhookEndpoint = (permission: Permission, idOf: (args: Record<string, unknown>) => string) =>
  rule({ cache: "no_cache" })(async (_parent, args: Record<string, unknown>, ctx: Context) => {
    const access = await requireWebhookEndpoint(ctx, idOf(args), permission);
    return access.ok ? true : apiError(access.error);
  });

const onWebhookDelivery = (permission: Permission, idOf: (args: Record<string, unknown>) => string) =>
  rule({ cache: "no_cache" })(async (_parent, args: Record<string, unknown>, ctx: Context) => {
    const access = await requireWebhookDelivery(ctx, idOf(args), permission);
    return access.ok ? true : apiError(access.error);
  });

const onParentWorkspace = (permission: Permission) =>
  rule({ cache: "no_cache" })(async (parent: Workspace, _args, ctx: Context) => {
    const access = await requireWorkspace(ctx, { id: parent.id }, permission);
    return access.ok ? true : apiError(access.error);
  });

/**
 * A signed-in user, a secret key, or a platform key with keys:verify; publishable
 * keys cannot call mutations. A rule about the caller alone: the edge's runner
 * applies it (verifierCaller) before it runs a verify-only document without the
 * shield middleware.
 */
export const userOrSecretKey = rule({ cache: "contextual" })((_parent, _args, ctx: Context) => {
  const caller = verifierCaller(ctx);
  return caller.ok ? true : apiError(caller.error);
});

const isSelf = rule({ cache: "no_cache" })((parent: User, _args, ctx: Context) =>
  ctx.principal.kind === "user" && ctx.principal.user.id === parent.id
    ? true
    : apiError({ code: "insufficient_permissions", message: "Only your own memberships are visible." }),
);

const str = (value: unknown) => (typeof value === "string" ? value : null);
const input = (args: Record<string, unknown>) => (args.input ?? {}) as Record<string, unknown>;
const byWorkspaceIdArg = (args: Record<string, unknown>): WorkspaceRef => ({ id: str(args.workspaceId) });
const byInputWorkspaceId = (args: Record<string, unknown>): WorkspaceRef => ({ id: str(input(args).workspaceId) });
// Object ids are non-null in the schema, so GraphQL refuses a document without one
// before any rule runs; String() still turns anything else into a non-id (not_found).
const idArg = (args: Record<string, unknown>) => String(args.id);
const inputId = (args: Record<string, unknown>) => String(input(args).id);
const endpointIdArg = (args: Record<string, unknown>) => String(args.endpointId);

/** The permission tree, by type and field. */
export const RULES = {
  Query: {
    me: noBadCredential,
    // The resolver checks membership itself, after validating "exactly one of id or slug".
    workspace: readsWorkspaces,
    auditEvents: inWorkspace("audit:read", byWorkspaceIdArg),
    auditChain: inWorkspace("audit:read", byWorkspaceIdArg),
    apiKey: onApiKey("keys:read", idArg),
    apiKeys: inWorkspace("keys:read", byWorkspaceIdArg),
    platformKeys: platformAdminReads,
    audiences: inWorkspace("workspace:read", byWorkspaceIdArg),
    services: inWorkspace("workspace:read", byWorkspaceIdArg),
    // Deployments: members only, which the resolvers check after these rules.
    deployments: inWorkspace("keys:read", byWorkspaceIdArg),
    pendingDeployment: inWorkspace("keys:read", byWorkspaceIdArg),
    webhookEndpoints: inWorkspace("webhooks:read", byWorkspaceIdArg),
    webhookDeliveries: onWebhookEndpoint("webhooks:read", endpointIdArg),
  },
  Mutation: {
    signUp: allow,
    signIn: allow,
    signOut: signedIn,
    createWorkspace: signedIn,
    addMember: inWorkspace("members:write", byInputWorkspaceId),
    updateMemberRole: inWorkspace("members:write", byInputWorkspaceId),
    removeMember: inWorkspace("members:write", byInputWorkspaceId),
    createApiKey: inWorkspace("keys:write", byInputWorkspaceId),
    updateApiKey: onApiKey("keys:write", inputId),
    rollApiKey: onApiKey("keys:write", inputId),
    revokeApiKey: onApiKey("keys:write", inputId),
    setKeysEnabled: inWorkspace("keys:write", byInputWorkspaceId),
    setRequireDeploy: inWorkspace("workspace:write", byInputWorkspaceId),
    deployKeys: inWorkspace("keys:write", byInputWorkspaceId),
    rollbackKeys: inWorkspace("keys:write", byInputWorkspaceId),
    // Which keys the caller may verify is decided per key, inside the answer (not_found).
    verifyApiKey: userOrSecretKey,
    createPlatformKey: platformAdminWrites,
    revokePlatformKey: platformAdminWrites,
    createAudience: audienceWriter(byInputWorkspaceId),
    renameAudience: onAudience(inputId),
    deleteAudience: onAudience(inputId),
    setRequireAudienceToken: audienceWriter(byInputWorkspaceId),
    // Members only (OWNER, ADMIN): the resolvers refuse keys, as for the key switch.
    createService: inWorkspace("workspace:write", byInputWorkspaceId),
    setServiceActive: onService("workspace:write", inputId),
    createKeyPair: inWorkspace("keys:write", byInputWorkspaceId),
    regenerateKeyPair: onApiKey("keys:write", inputId),
    // Members only (OWNER, ADMIN): the resolver refuses keys, as for the key switch.
    setLeakPolicy: inWorkspace("workspace:write", byInputWorkspaceId),
    // Anyone holding a key may report it; limited per IP in the resolver.
    reportLeakedKey: allow,
    createWebhookEndpoint: inWorkspace("webhooks:write", byInputWorkspaceId),
    updateWebhookEndpoint: onWebhookEndpoint("webhooks:write", inputId),
    deleteWebhookEndpoint: onWebhookEndpoint("webhooks:write", inputId),
    rotateWebhookSecret: onWebhookEndpoint("webhooks:write", inputId),
    sendTestWebhook: onWebhookEndpoint("webhooks:write", inputId),
    redeliverWebhook: onWebhookDelivery("webhooks:write", inputId),
  },
  User: { "*": allow, memberships: isSelf },
  Workspace: { "*": allow, members: onParentWorkspace("members:read") },
  Membership: allow,
  AuthPayload: allow,
  AuditEvent: allow,
  AuditEventConnection: allow,
  AuditEventEdge: allow,
  AuditChainStatus: allow,
  PageInfo: allow,
  ApiKey: allow,
  ApiKeyConnection: allow,
  ApiKeyEdge: allow,
  CreatedApiKey: allow,
  CreatedKeyPair: allow,
  RateLimit: allow,
  RateLimitState: allow,
  VerifyResult: allow,
  KeyUsage: allow,
  PlatformKey: allow,
  PlatformKeyConnection: allow,
  PlatformKeyEdge: allow,
  CreatedPlatformKey: allow,
  PlatformKeyUsage: allow,
  Audience: allow,
  Service: allow,
  Deployment: allow,
  DeploymentConnection: allow,
  DeploymentEdge: allow,
  DeploymentKeyChange: allow,
  PendingDeployment: allow,
  LeakReportReceipt: allow,
  WebhookEndpoint: allow,
  CreatedWebhookEndpoint: allow,
  WebhookDelivery: allow,
  WebhookAttempt: allow,
};

export const permissions = shield(RULES, {
  fallbackRule: deny,
  allowExternalErrors: true,
  fallbackError: apiError({ code: "insufficient_permissions", message: "You are not allowed to do this." }),
});
