import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { requireApiKey, requireWorkspace, type WorkspaceCaller } from "../auth/access";
import { roleAllows } from "../auth/permissions";
import { builder } from "../builder";
import type { Context } from "../context";
import { revokeImmediately } from "../deployments/emergency";
import { apiError, ok, type Result } from "../errors";
import type { Prisma, User, Workspace } from "../generated/prisma/client";
import { idempotent } from "../keys/idempotency";
import { effectiveLimit, METADATA_MAX_BYTES } from "../keys/input";
import {
  type CreatedKey,
  createApiKey,
  type KeyManager,
  revokeApiKey,
  rollApiKey,
  setKeysEnabled,
  updateApiKey,
} from "../keys/lifecycle";
import { type Cursor, decodeCursor, encodeCursor, filterWhere, pageKeys } from "../keys/list";
import { effectiveScopes } from "../keys/scopes";
import { keyStatus } from "../keys/status";
import {
  CreateApiKeyInput,
  RevokeApiKeyInput,
  RollApiKeyInput,
  SetKeysEnabledInput,
  UpdateApiKeyInput,
} from "./apikey-inputs";
import { ApiKeyStatusEnum, ApiKeyTypeEnum, EnvironmentEnum } from "./apikey-types";
import { checkedPage, PAGE_SIZE } from "./pagination";
import { ApiKeyRef, UserRef, WorkspaceRef } from "./refs";
import { unwrap } from "./result";

interface RateLimitShape {
  limit: number;
  windowSeconds: number;
}

const RateLimitRef = builder.objectRef<RateLimitShape>("RateLimit").implement({
  description: "Requests allowed per window.",
  fields: (t) => ({
    limit: t.exposeInt("limit"),
    windowSeconds: t.exposeInt("windowSeconds"),
  }),
});

ApiKeyRef.implement({
  description: "An API key. Its full value is shown once, when created or rolled; only `start` is shown later.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    type: t.field({ type: ApiKeyTypeEnum, resolve: (k) => k.type }),
    environment: t.field({ type: EnvironmentEnum, resolve: (k) => k.environment }),
    start: t.exposeString("start", {
      description: "Prefix and first 4 characters, e.g. sk_live_AbCd, for recognising the key.",
    }),
    scopes: t.stringList({
      description: "What the key holds (a publishable key never more than keys:read and service reads).",
      resolve: (k) => effectiveScopes(k),
    }),
    allowedOrigins: t.exposeStringList("allowedOrigins", {
      description: "Publishable keys only: origins allowed to use it.",
    }),
    allowedIps: t.exposeStringList("allowedIps", {
      description: "Secret keys only: CIDR blocks allowed to use it (empty: any).",
    }),
    status: t.field({ type: ApiKeyStatusEnum, resolve: (k, _args, ctx) => keyStatus(k, ctx.now) }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    revokedReason: t.exposeString("revokedReason", { nullable: true }),
    revokedImmediately: t.exposeBoolean("revokedImmediately", {
      description: "Revoked with `immediate`: refused at once, even where a deployment still lists it.",
    }),
    graceUntil: t.expose("graceUntil", {
      type: "DateTime",
      nullable: true,
      description: "Set on a rolled key: it keeps working until then.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "Last successful use; written in batches, so it may trail by a few seconds.",
    }),
    metadata: t.expose("metadata", {
      type: "JSON",
      description: `Your JSON object, up to ${METADATA_MAX_BYTES} bytes.`,
    }),
    rateLimit: t.field({
      type: RateLimitRef,
      description: "The effective limit: this key's override, or the default for its type.",
      resolve: (k) => effectiveLimit(k),
    }),
    rolledFromId: t.exposeID("rolledFromId", { nullable: true }),
    canSignTokens: t.exposeBoolean("canSignTokens", {
      description: "Whether the key signs audience tokens (set when it was created, or carried over by a roll).",
    }),
    pairedWithId: t.exposeID("pairedWithId", {
      nullable: true,
      description: "The other half of a pair made by createKeyPair (regenerateKeyPair rotates both).",
    }),
    serviceId: t.exposeID("serviceId", {
      nullable: true,
      description: "The service the key is bound to: while it is inactive the key answers service_inactive (402).",
    }),
    workspace: t.field({
      type: WorkspaceRef,
      resolve: async (k, _args, ctx): Promise<Workspace> => {
        const workspace = await ctx.loaders.workspace.load(k.workspaceId);
        if (!workspace) throw new Error(`api key ${k.id} points at a missing workspace`);
        return workspace;
      },
    }),
    createdBy: t.field({
      type: UserRef,
      nullable: true,
      description: "The user who created it; null when another key created it.",
      // Publishable keys live in browsers: they do not learn who on the team made a key.
      resolve: (k, _args, ctx): Promise<User | null> | null =>
        k.createdById && !(ctx.principal.kind === "key" && ctx.principal.key.type === "PUBLISHABLE")
          ? ctx.loaders.user.load(k.createdById)
          : null,
    }),
  }),
});

export const CreatedApiKey = builder.objectRef<CreatedKey>("CreatedApiKey").implement({
  description: "A new key. `secret` is its full value, returned this once and never again: store it now.",
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (c) => c.apiKey }),
    secret: t.exposeString("secret"),
  }),
});

export function keyManager(caller: WorkspaceCaller): KeyManager {
  return {
    actor: caller.actor,
    workspaceId: caller.workspace.id,
    held: caller.held,
    platformAdmin: caller.platformAdmin,
    environment: caller.environment,
    grantsServiceScopes: caller.user !== null && roleAllows(caller.role, "keys:write"),
    rate: caller.key ? effectiveLimit(caller.key) : null,
    signsTokens: caller.key ? caller.key.canSignTokens : true,
    serviceId: caller.key?.serviceId ?? null,
  };
}

export const principalId = (caller: WorkspaceCaller) => `${caller.actor.type}:${caller.actor.id}`;

/**
 * Makes a key once per Idempotency-Key: the first call runs `mint`, a retry replays
 * its answer (the same key and secret).
 */
async function mintOnce(
  ctx: Context,
  caller: WorkspaceCaller,
  operation: string,
  input: unknown,
  mint: (tx: Prisma.TransactionClient) => Promise<Result<CreatedKey>>,
): Promise<CreatedKey> {
  const result = await idempotent(
    ctx.db,
    ctx.box,
    { principal: principalId(caller), key: ctx.idempotencyKey, operation, input, now: ctx.now },
    async (tx) => {
      const made = await mint(tx);
      return made.ok ? ok({ apiKeyId: made.value.apiKey.id, secret: made.value.secret }) : made;
    },
  );
  const { apiKeyId, secret } = unwrap(result);
  ctx.loaders.apiKey.clear(apiKeyId);
  const apiKey = await ctx.loaders.apiKey.load(apiKeyId);
  if (!apiKey) throw new Error(`created key ${apiKeyId} is missing`);
  return { apiKey, secret };
}

function parseCursor(cursor: string | undefined, field: string): Cursor | undefined {
  if (cursor === undefined) return undefined;
  const parsed = decodeCursor(cursor);
  if (!parsed) throw apiError({ code: "validation_failed", message: `${field}: malformed cursor`, field });
  return parsed;
}

builder.queryFields((t) => ({
  apiKey: t.field({
    type: ApiKeyRef,
    description: "One key by id. Keys of other workspaces (or, for key callers, other environments) answer not_found.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => unwrap(await requireApiKey(ctx, String(args.id), "keys:read")).apiKey,
  }),
  apiKeys: t.connection(
    {
      type: ApiKeyRef,
      description: "A workspace's keys in one environment, newest first. Needs keys:read (MODERATOR and up).",
      args: {
        workspaceId: t.arg.id({ required: true }),
        environment: t.arg({ type: EnvironmentEnum, required: true }),
        type: t.arg({ type: ApiKeyTypeEnum }),
        status: t.arg({ type: ApiKeyStatusEnum }),
      },
      resolve: async (_root, args, ctx) => {
        const caller = unwrap(await requireWorkspace(ctx, { id: String(args.workspaceId) }, "keys:read"));
        if (caller.environment && caller.environment !== args.environment) {
          throw apiError({
            code: "insufficient_scope",
            message: `A ${caller.environment} key works only with ${caller.environment} data.`,
            field: "environment",
          });
        }
        const where = filterWhere(
          { workspaceId: caller.workspace.id, environment: args.environment, type: args.type, status: args.status },
          ctx.now,
        );
        const connection = await resolveCursorConnection(
          { args: checkedPage(args), toCursor: encodeCursor, defaultSize: PAGE_SIZE.default, maxSize: PAGE_SIZE.max },
          ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
            pageKeys(ctx.db, where, {
              after: parseCursor(after, "after"),
              before: parseCursor(before, "before"),
              limit,
              inverted,
            }),
        );
        for (const edge of connection.edges) if (edge) ctx.loaders.apiKey.prime(edge.node.id, edge.node);
        return { ...connection, totalCount: await ctx.db.apiKey.count({ where }) };
      },
    },
    {
      name: "ApiKeyConnection",
      fields: (c) => ({
        totalCount: c.int({ resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount }),
      }),
    },
    { name: "ApiKeyEdge" },
  ),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    description:
      "Create a key. The response's `secret` is the only time its value is shown. Honours an Idempotency-Key header (24 h).",
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(input.workspaceId) }, "keys:write"));
      const manager = keyManager(caller);
      const created = await mintOnce(ctx, caller, "createApiKey", input, (tx) =>
        createApiKey(tx, manager, input, ctx.now, ctx.box),
      );
      // The new key's hash may sit in this instance's negative cache from an earlier probe;
      // other instances hear of it from the transaction (keys/invalidation.ts).
      ctx.keys.bus.invalidate({ kind: "keys", hashes: [created.apiKey.hash] });
      if (created.apiKey.canSignTokens) ctx.keys.bus.invalidate({ kind: "workspace", id: caller.workspace.id });
      return created;
    },
  }),
  updateApiKey: t.field({
    type: ApiKeyRef,
    description: "Change a key's name, scopes, allowlists, expiry, rate limit or metadata.",
    args: { input: t.arg({ type: UpdateApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, apiKey } = unwrap(await requireApiKey(ctx, String(input.id), "keys:write"));
      const { id: _id, ...changes } = input;
      const updated = unwrap(await updateApiKey(ctx.db, keyManager(caller), apiKey, changes, ctx.now));
      ctx.keys.bus.invalidate({ kind: "keys", hashes: [apiKey.hash] });
      return updated;
    },
  }),
  rollApiKey: t.field({
    type: CreatedApiKey,
    description:
      "Replace a key with a new one that copies every setting; the old key works for gracePeriodSeconds more. Honours Idempotency-Key.",
    args: { input: t.arg({ type: RollApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, apiKey } = unwrap(await requireApiKey(ctx, String(input.id), "keys:write"));
      const manager = keyManager(caller);
      const rolled = await mintOnce(ctx, caller, "rollApiKey", input, (tx) =>
        rollApiKey(tx, manager, apiKey, input, ctx.now, ctx.box),
      );
      ctx.loaders.apiKey.clear(apiKey.id);
      ctx.keys.bus.invalidate({ kind: "keys", hashes: [apiKey.hash, rolled.apiKey.hash] });
      if (rolled.apiKey.canSignTokens) ctx.keys.bus.invalidate({ kind: "workspace", id: apiKey.workspaceId });
      return rolled;
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description:
      "Revoke a key: every later request with it gets invalid_api_key. Where the workspace requires deploys, from the next deployment, or at once with `immediate: true`.",
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, apiKey } = unwrap(await requireApiKey(ctx, String(input.id), "keys:write"));
      const revoke = input.immediate ? revokeImmediately : revokeApiKey;
      const revoked = unwrap(await revoke(ctx.db, keyManager(caller), apiKey, { reason: input.reason }, ctx.now));
      // Before answering: once revokeApiKey returns, this instance never accepts the key again.
      ctx.keys.bus.invalidate({ kind: "keys", hashes: [apiKey.hash] });
      return revoked;
    },
  }),
  setKeysEnabled: t.field({
    type: WorkspaceRef,
    description: "The workspace's master switch: false stops every key of the workspace (keys_disabled).",
    args: { input: t.arg({ type: SetKeysEnabledInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(input.workspaceId) }, "keys:write"));
      // The switch covers both environments, so no single (test or live) key may flip it.
      if (!caller.user) {
        throw apiError({
          code: "insufficient_scope",
          message: "The key switch affects test and live keys alike; a workspace member must flip it.",
        });
      }
      ctx.loaders.workspace.clear(caller.workspace.id);
      const workspace = await setKeysEnabled(ctx.db, caller.actor, caller.workspace.id, input.enabled, ctx.now);
      ctx.keys.bus.invalidate({ kind: "workspace", id: workspace.id });
      return workspace;
    },
  }),
}));
