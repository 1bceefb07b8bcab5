import { requireWorkspace, signedInUser } from "../auth/access";
import { builder } from "../builder";
import { apiError } from "../errors";
import type { Membership, Role } from "../generated/prisma/client";
import { createWorkspace } from "../workspaces/workspaces";
import { MembershipRef, WorkspaceRef } from "./refs";
import { unwrap } from "./result";
import { RoleEnum } from "./role";

const WorkspaceStatusEnum = builder.enumType("WorkspaceStatus", {
  values: { ACTIVE: {}, SUSPENDED: {} } as const,
});

WorkspaceRef.implement({
  description: "A tenant: one customer of the SaaS, with its members and keys.",
  fields: (t) => ({
    id: t.exposeID("id"),
    slug: t.exposeString("slug", { description: "Unique, URL-safe name (3–40 of a-z, 0-9, -)." }),
    name: t.exposeString("name"),
    keysEnabled: t.exposeBoolean("keysEnabled", {
      description: "The master switch: when false, no key of this workspace works.",
    }),
    requireDeploy: t.exposeBoolean("requireDeploy", {
      description: "When true, verification uses the latest deployment rather than live changes.",
    }),
    status: t.field({ type: WorkspaceStatusEnum, resolve: (w) => w.status }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    viewerRole: t.field({
      type: RoleEnum,
      nullable: true,
      description: "Your role here (platform admins read OWNER).",
      resolve: async (w, _args, ctx): Promise<Role | null> => {
        // A platform key reads workspaces without a role in them.
        if (ctx.principal.kind === "platform") return null;
        const access = await requireWorkspace(ctx, { id: w.id }, "workspace:read");
        return access.ok ? access.value.role : null;
      },
    }),
    members: t.field({
      type: [MembershipRef],
      description: "Everyone in the workspace with their role. Needs members:read (MODERATOR and up).",
      // One query per workspace (server/http/cost.ts).
      extensions: { cost: 1 },
      resolve: (w, _args, ctx): Promise<Membership[]> =>
        ctx.db.membership.findMany({ where: { workspaceId: w.id }, orderBy: { createdAt: "asc" } }),
    }),
  }),
});

const CreateWorkspaceInput = builder.inputType("CreateWorkspaceInput", {
  fields: (t) => ({
    name: t.string({ required: true, description: "Display name, up to 100 characters." }),
    slug: t.string({ required: true, description: "Unique, URL-safe name (3–40 of a-z, 0-9, -)." }),
  }),
});

builder.queryField("workspace", (t) =>
  t.field({
    type: WorkspaceRef,
    description:
      "A workspace you belong to, by id or slug (any workspace for a platform key with workspaces:read). Others answer not_found.",
    args: { id: t.arg.id(), slug: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      if (!args.id === !args.slug) {
        throw apiError({ code: "validation_failed", message: "Give exactly one of id or slug.", field: "id" });
      }
      const ref = args.id ? { id: String(args.id) } : { slug: args.slug ?? null };
      const { workspace } = unwrap(await requireWorkspace(ctx, ref, "workspace:read"));
      if (ctx.principal.kind === "platform") {
        ctx.keys.usage.usePlatformKey(ctx.principal.key.id, "workspace", "VALID", ctx.now);
      }
      return workspace;
    },
  }),
);

builder.mutationField("createWorkspace", (t) =>
  t.field({
    type: WorkspaceRef,
    description: "Create a workspace; you become its OWNER.",
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const user = unwrap(signedInUser(ctx));
      return unwrap(await createWorkspace(ctx.db, { type: "user", id: user.id, ip: ctx.ip }, input, ctx.now));
    },
  }),
);
