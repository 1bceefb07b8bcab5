import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { platformAdmin } from "../auth/access";
import { builder } from "../builder";
import type { Context } from "../context";
import { apiError } from "../errors";
import type { PlatformKey, User } from "../generated/prisma/client";
import { type Cursor, decodeCursor, encodeCursor } from "../keys/list";
import { type CreatedPlatformKey, createPlatformKey, revokePlatformKey } from "../platform/lifecycle";
import { pagePlatformKeys, platformStatusWhere } from "../platform/list";
import { PLATFORM_SCOPES } from "../platform/scopes";
import { platformKeyStatus } from "../platform/status";
import { checkedPage, PAGE_SIZE } from "./pagination";
import { UserRef } from "./refs";
import { unwrap } from "./result";
import { checkUsageRange } from "./usage-range";

// Platform keys (kwp_…): the operator's own verifier credentials, managed by
// platform admins only (shield: platformAdminReads / platformAdminWrites).

const PlatformKeyStatusEnum = builder.enumType("PlatformKeyStatus", {
  values: {
    ACTIVE: { description: "Works." },
    EXPIRED: { description: "Past expiresAt." },
    REVOKED: { description: "Revoked; never works again." },
  } as const,
});

const PlatformKeyOperationEnum = builder.enumType("PlatformKeyOperation", {
  values: {
    VERIFY: { description: "verifyApiKey or POST /v1/keys/verify (keys:verify)." },
    WORKSPACE: { description: "workspace(id | slug) (workspaces:read)." },
  } as const,
});

interface UsageBucket {
  hour: Date;
  operation: string;
  outcome: string;
  count: number;
}

const PlatformKeyUsageRef = builder.objectRef<UsageBucket>("PlatformKeyUsage").implement({
  description: "Uses of a platform key in one hour, by operation and outcome.",
  fields: (t) => ({
    hour: t.expose("hour", { type: "DateTime", description: "Start of the hour (UTC)." }),
    operation: t.field({
      type: PlatformKeyOperationEnum,
      resolve: (u) => (u.operation === "verify" ? "VERIFY" : "WORKSPACE"),
    }),
    outcome: t.exposeString("outcome", {
      description: "For VERIFY, the verification's code (VALID or a VerifyCode); for WORKSPACE, VALID.",
    }),
    count: t.exposeInt("count"),
  }),
});

const PlatformKeyRef = builder.objectRef<PlatformKey>("PlatformKey").implement({
  description:
    "The operator's own key (kwp_…), of no workspace. Its full value is shown once, when created; only `start` later.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    start: t.exposeString("start", { description: "kwp_ and the first 4 characters, for recognising the key." }),
    scopes: t.exposeStringList("scopes", { description: `Among ${PLATFORM_SCOPES.join(", ")}.` }),
    status: t.field({ type: PlatformKeyStatusEnum, resolve: (k, _args, ctx) => platformKeyStatus(k, ctx.now) }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    createdBy: t.field({
      type: UserRef,
      nullable: true,
      description: "The platform admin who created it; null when the command line did.",
      resolve: (k, _args, ctx): Promise<User | null> | null =>
        k.createdById ? ctx.loaders.user.load(k.createdById) : null,
    }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "Last use; written in batches, so it may trail by a few seconds.",
    }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    revokedReason: t.exposeString("revokedReason", { nullable: true }),
    usage: t.field({
      type: [PlatformKeyUsageRef],
      description: "Uses per hour, operation and outcome in [from, to), at most 93 days. Written in batches.",
      args: { from: t.arg({ type: "DateTime", required: true }), to: t.arg({ type: "DateTime", required: true }) },
      // One query per key: under platformKeys(first: 100) it runs 100 times (server/http/cost.ts).
      extensions: { cost: 1 },
      resolve: async (key, { from, to }, ctx) => {
        checkUsageRange(from, to);
        return ctx.db.platformKeyUsage.findMany({
          where: { keyId: key.id, hour: { gte: from, lt: to } },
          orderBy: [{ hour: "asc" }, { operation: "asc" }, { outcome: "asc" }],
          select: { hour: true, operation: true, outcome: true, count: true },
        });
      },
    }),
  }),
});

const CreatedPlatformKeyRef = builder.objectRef<CreatedPlatformKey>("CreatedPlatformKey").implement({
  description: "A new platform key. `secret` is its full value, returned this once and never again: store it now.",
  fields: (t) => ({
    platformKey: t.field({ type: PlatformKeyRef, resolve: (c) => c.platformKey }),
    secret: t.exposeString("secret"),
  }),
});

const CreatePlatformKeyInput = builder.inputType("CreatePlatformKeyInput", {
  fields: (t) => ({
    name: t.string({ required: true, description: "Up to 100 characters." }),
    scopes: t.stringList({
      required: true,
      description: `At least one of ${PLATFORM_SCOPES.join(" (any workspace's keys), ")} (any workspace's basic details).`,
    }),
    expiresAt: t.field({ type: "DateTime", description: "Must be in the future; omit for no expiry." }),
  }),
});

const RevokePlatformKeyInput = builder.inputType("RevokePlatformKeyInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    reason: t.string({ description: "Why, for the audit log (up to 500 characters)." }),
  }),
});

function parseCursor(cursor: string | undefined, field: string): Cursor | undefined {
  if (cursor === undefined) return undefined;
  const parsed = decodeCursor(cursor);
  if (!parsed) throw apiError({ code: "validation_failed", message: `${field}: malformed cursor`, field });
  return parsed;
}

const adminActor = (ctx: Context, intent: "read" | "write") => {
  const admin = unwrap(platformAdmin(ctx, intent === "write"));
  return { type: "user" as const, id: admin.id, ip: ctx.ip };
};

builder.queryField("platformKeys", (t) =>
  t.connection(
    {
      type: PlatformKeyRef,
      description: "Every platform key, newest first. Platform admins only.",
      args: { status: t.arg({ type: PlatformKeyStatusEnum }) },
      resolve: async (_root, args, ctx) => {
        adminActor(ctx, "read");
        const where = platformStatusWhere(args.status, ctx.now);
        const connection = await resolveCursorConnection(
          { args: checkedPage(args), toCursor: encodeCursor, defaultSize: PAGE_SIZE.default, maxSize: PAGE_SIZE.max },
          ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
            pagePlatformKeys(ctx.db, where, {
              after: parseCursor(after, "after"),
              before: parseCursor(before, "before"),
              limit,
              inverted,
            }),
        );
        return { ...connection, totalCount: await ctx.db.platformKey.count({ where }) };
      },
    },
    {
      name: "PlatformKeyConnection",
      fields: (c) => ({
        totalCount: c.int({ resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount }),
      }),
    },
    { name: "PlatformKeyEdge" },
  ),
);

builder.mutationFields((t) => ({
  createPlatformKey: t.field({
    type: CreatedPlatformKeyRef,
    description: "Create a platform key (platform admins only). The response's `secret` is the only time it is shown.",
    args: { input: t.arg({ type: CreatePlatformKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const created = unwrap(await createPlatformKey(ctx.db, adminActor(ctx, "write"), input, ctx.now));
      // The new hash may sit in this instance's negative cache from an earlier probe.
      ctx.keys.bus.invalidate({ kind: "keys", hashes: [created.platformKey.hash] });
      return created;
    },
  }),
  revokePlatformKey: t.field({
    type: PlatformKeyRef,
    description: "Revoke a platform key at once (platform admins only): its next use gets invalid_api_key.",
    args: { input: t.arg({ type: RevokePlatformKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const revoked = unwrap(
        await revokePlatformKey(
          ctx.db,
          adminActor(ctx, "write"),
          { id: String(input.id), reason: input.reason },
          ctx.now,
        ),
      );
      // Before answering: once this returns, this instance never accepts the key again.
      ctx.keys.bus.invalidate({ kind: "keys", hashes: [revoked.hash] });
      return revoked;
    },
  }),
}));
