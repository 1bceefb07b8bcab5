import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { requireWorkspace, type WorkspaceCaller } from "../auth/access";
import type { Permission } from "../auth/permissions";
import { builder } from "../builder";
import type { Context } from "../context";
import type { KeyChange } from "../deployments/diff";
import { deployKeys, rollbackKeys } from "../deployments/publish";
import { type PendingDeployment, pendingDeployment, setRequireDeploy } from "../deployments/require";
import { apiError } from "../errors";
import type { Deployment, User } from "../generated/prisma/client";
import { ApiKeyTypeEnum, EnvironmentEnum } from "./apikey-types";
import { checkedPage, PAGE_SIZE } from "./pagination";
import { UserRef, WorkspaceRef } from "./refs";
import { unwrap } from "./result";

// Deploy-gated keys (server/deployments/): the workspace setting, publishing and
// rolling back deployments, their history and the pending diff. A deployment covers
// test and live keys alike, so, like the key switch, only a workspace member works
// with it; an API key is refused whatever its scopes.

async function memberCaller(ctx: Context, workspaceId: string, permission: Permission): Promise<WorkspaceCaller> {
  const caller = unwrap(await requireWorkspace(ctx, { id: workspaceId }, permission));
  if (!caller.user) {
    throw apiError({
      code: "insufficient_scope",
      message: "Deployments cover test and live keys alike: a workspace member works with them, not an API key.",
    });
  }
  return caller;
}

const DeploymentKindEnum = builder.enumType("DeploymentKind", {
  values: {
    DEPLOY: { description: "deployKeys: the workspace's key state when it ran." },
    ROLLBACK: { description: "rollbackKeys: an older version's snapshot, republished (sourceVersion)." },
    ENABLE: { description: "Published by setRequireDeploy(enabled: true): the key state at that moment." },
  } as const,
});

const DeploymentRef = builder.objectRef<Deployment>("Deployment").implement({
  description:
    "A published, immutable snapshot of a workspace's keys and key switch. With requireDeploy, verification answers from the latest one.",
  fields: (t) => ({
    id: t.exposeID("id"),
    version: t.exposeInt("version", { description: "1, 2, 3… per workspace." }),
    kind: t.field({ type: DeploymentKindEnum, resolve: (d) => d.kind }),
    note: t.exposeString("note", { nullable: true }),
    sourceVersion: t.exposeInt("sourceVersion", {
      nullable: true,
      description: "For a rollback: the version it republished.",
    }),
    keysEnabled: t.exposeBoolean("keysEnabled", { description: "The key switch this version published." }),
    keyCount: t.exposeInt("keyCount", { description: "Keys listed (every key not revoked when published)." }),
    added: t.exposeInt("added", { description: "Keys listed here and not by the version before." }),
    removed: t.exposeInt("removed", { description: "Keys listed by the version before and not here." }),
    changed: t.exposeInt("changed", { description: "Keys listed by both with some deployed field different." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    createdBy: t.field({
      type: UserRef,
      nullable: true,
      description: "Who published it.",
      resolve: (d, _args, ctx): Promise<User | null> | null =>
        d.createdById ? ctx.loaders.user.load(d.createdById) : null,
    }),
  }),
});

const DeploymentChangeEnum = builder.enumType("DeploymentChange", {
  values: {
    ADDED: { description: "New since the latest deployment: not valid until deployed (key_not_deployed)." },
    CHANGED: { description: "Some field verification reads differs from the latest deployment." },
    REMOVED: { description: "Revoked since the latest deployment: still valid until deployed." },
  } as const,
});

const KeyChangeRef = builder.objectRef<KeyChange>("DeploymentKeyChange").implement({
  description: "One key the next deployment would publish differently.",
  fields: (t) => ({
    keyId: t.exposeID("keyId"),
    change: t.field({ type: DeploymentChangeEnum, resolve: (c) => c.change }),
    fields: t.exposeStringList("fields", { description: "The deployed fields that differ, e.g. scopes, expiresAt." }),
    name: t.exposeString("name"),
    start: t.exposeString("start"),
    environment: t.field({ type: EnvironmentEnum, resolve: (c) => c.environment }),
    type: t.field({ type: ApiKeyTypeEnum, resolve: (c) => c.type }),
  }),
});

const PendingRef = builder.objectRef<PendingDeployment>("PendingDeployment").implement({
  description: "What deployKeys would publish now, compared with the latest deployment.",
  fields: (t) => ({
    baseVersion: t.exposeInt("baseVersion", { nullable: true, description: "The latest deployment (null: none)." }),
    added: t.exposeInt("added"),
    removed: t.exposeInt("removed"),
    changed: t.exposeInt("changed"),
    keysEnabled: t.exposeBoolean("keysEnabled", { description: "The key switch the next deployment would publish." }),
    keysEnabledChanged: t.exposeBoolean("keysEnabledChanged"),
    changes: t.field({
      type: [KeyChangeRef],
      description: "The first 100 changed keys: added, then changed, then removed.",
      resolve: (p) => p.changes,
    }),
  }),
});

const CURSOR = /^[1-9]\d{0,8}$/;

function versionFromCursor(cursor: string | undefined, field: string): number | undefined {
  if (cursor === undefined) return undefined;
  if (!CURSOR.test(cursor)) {
    throw apiError({ code: "validation_failed", message: `${field}: malformed cursor`, field });
  }
  return Number(cursor);
}

builder.queryFields((t) => ({
  deployments: t.connection(
    {
      type: DeploymentRef,
      description: "A workspace's deployments, newest first. Needs keys:read (MODERATOR and up), as a member.",
      args: { workspaceId: t.arg.id({ required: true }) },
      resolve: async (_root, args, ctx) => {
        const { workspace } = await memberCaller(ctx, String(args.workspaceId), "keys:read");
        const where = { workspaceId: workspace.id };
        const connection = await resolveCursorConnection(
          {
            args: checkedPage(args),
            toCursor: (d: Deployment) => String(d.version),
            defaultSize: PAGE_SIZE.default,
            maxSize: PAGE_SIZE.max,
          },
          ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
            ctx.db.deployment.findMany({
              where: {
                ...where,
                version: { lt: versionFromCursor(after, "after"), gt: versionFromCursor(before, "before") },
              },
              orderBy: { version: inverted ? "asc" : "desc" },
              take: limit,
            }),
        );
        return { ...connection, totalCount: await ctx.db.deployment.count({ where }) };
      },
    },
    {
      name: "DeploymentConnection",
      fields: (c) => ({
        totalCount: c.int({ resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount }),
      }),
    },
    { name: "DeploymentEdge" },
  ),
  pendingDeployment: t.field({
    type: PendingRef,
    description: "The changes the next deployKeys would publish. Needs keys:read (MODERATOR and up), as a member.",
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { workspace } = await memberCaller(ctx, String(args.workspaceId), "keys:read");
      return pendingDeployment(ctx.db, workspace);
    },
  }),
}));

const DeployKeysInput = builder.inputType("DeployKeysInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    note: t.string({ description: "What this deployment is for (up to 500 characters)." }),
  }),
});

const RollbackKeysInput = builder.inputType("RollbackKeysInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    version: t.int({ required: true, description: "The version whose snapshot to republish." }),
    note: t.string({ description: "Why (up to 500 characters)." }),
  }),
});

const SetRequireDeployInput = builder.inputType("SetRequireDeployInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    enabled: t.boolean({
      required: true,
      description:
        "true: publishes the current state as a deployment, and later key changes wait for the next one. false: verification reads the live state again, at once.",
    }),
  }),
});

/** After a deployment commits: this instance answers from it before the mutation returns. */
function published(ctx: Context, caller: WorkspaceCaller, deployment: Deployment): Deployment {
  ctx.keys.bus.invalidate({ kind: "workspace", id: caller.workspace.id });
  return deployment;
}

builder.mutationFields((t) => ({
  deployKeys: t.field({
    type: DeploymentRef,
    description:
      "Publish the workspace's current keys and key switch as its next version. OWNER, ADMIN or MODERATOR, as a member.",
    args: { input: t.arg({ type: DeployKeysInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = await memberCaller(ctx, String(input.workspaceId), "keys:write");
      const deployment = unwrap(await deployKeys(ctx.db, caller.actor, caller.workspace.id, input, ctx.now));
      return published(ctx, caller, deployment);
    },
  }),
  rollbackKeys: t.field({
    type: DeploymentRef,
    description:
      "Republish an older version's snapshot as the next version. OWNER, ADMIN or MODERATOR, as a member. Keys revoked with `immediate` stay refused.",
    args: { input: t.arg({ type: RollbackKeysInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = await memberCaller(ctx, String(input.workspaceId), "keys:write");
      const deployment = unwrap(await rollbackKeys(ctx.db, caller.actor, caller.workspace.id, input, ctx.now));
      return published(ctx, caller, deployment);
    },
  }),
  setRequireDeploy: t.field({
    type: WorkspaceRef,
    description: "Turn deploy-gated keys on or off. OWNER or ADMIN, as a member.",
    args: { input: t.arg({ type: SetRequireDeployInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = await memberCaller(ctx, String(input.workspaceId), "workspace:write");
      ctx.loaders.workspace.clear(caller.workspace.id);
      const workspace = unwrap(
        await setRequireDeploy(ctx.db, caller.actor, caller.workspace.id, input.enabled, ctx.now),
      );
      ctx.keys.bus.invalidate({ kind: "workspace", id: workspace.id });
      return workspace;
    },
  }),
}));
