import {
  createAudience,
  deleteAudience,
  listAudiences,
  renameAudience,
  setRequireAudienceToken,
} from "../audience/audiences";
import { type AudienceNode, MAX_AUDIENCES, MAX_DEPTH, NAME_MAX } from "../audience/tree";
import { requireWorkspace } from "../auth/access";
import { requireAudience, requireAudienceWriter } from "../auth/audience-access";
import { builder } from "../builder";
import type { Context } from "../context";
import { WorkspaceRef } from "./refs";
import { unwrap } from "./result";

// The audience tree (enterprise → enterprise_b) and the workspace setting that
// makes publishable keys need a signed audience token. Members read the tree;
// OWNER and ADMIN members change it (server/auth/audience-access.ts).

const AudienceRef = builder.objectRef<AudienceNode>("Audience").implement({
  description: "A node of a workspace's audience tree. Audience tokens name one by `name`.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name", { description: "What tokens put in their `audience` claim." }),
    parent: t.exposeString("parent", { nullable: true, description: "The parent audience's name; null for a root." }),
    path: t.exposeStringList("path", {
      description: "This audience's name, then each ancestor's up to the root: what verification answers.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.objectField(WorkspaceRef, "requireAudienceToken", (t) =>
  t.exposeBoolean("requireAudienceToken", {
    description: "When true, a publishable key verifies only with a signed audience token (audience_token_required).",
  }),
);

const name = `1 to ${NAME_MAX} letters, digits, _ . or -, starting with a letter or digit; unique in the workspace.`;

const CreateAudienceInput = builder.inputType("CreateAudienceInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    name: t.string({ required: true, description: name }),
    parent: t.string({ description: `The parent audience's name; omit for a root. At most ${MAX_DEPTH} levels.` }),
  }),
});

const RenameAudienceInput = builder.inputType("RenameAudienceInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ required: true, description: `${name} Tokens naming the old name stop working.` }),
  }),
});

const DeleteAudienceInput = builder.inputType("DeleteAudienceInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const SetRequireAudienceTokenInput = builder.inputType("SetRequireAudienceTokenInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    required: t.boolean({ required: true, description: "true: publishable keys verify only with an audience token." }),
  }),
});

/** Every instance reads the tree from memory: this one forgets it before answering. */
const forget = (ctx: Context, workspaceId: string) => ctx.keys.bus.invalidate({ kind: "workspace", id: workspaceId });

builder.queryField("audiences", (t) =>
  t.field({
    type: [AudienceRef],
    description: `A workspace's audience tree (at most ${MAX_AUDIENCES}), each root followed by its subtree. Needs workspace:read.`,
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(args.workspaceId) }, "workspace:read"));
      return listAudiences(ctx.db, caller.workspace.id);
    },
  }),
);

builder.mutationFields((t) => ({
  createAudience: t.field({
    type: AudienceRef,
    description: "Add an audience, as a root or under `parent`. OWNER or ADMIN members only.",
    args: { input: t.arg({ type: CreateAudienceInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireAudienceWriter(ctx, { id: String(input.workspaceId) }));
      const made = { name: input.name, parent: input.parent };
      const node = unwrap(await createAudience(ctx.db, caller.actor, caller.workspace.id, made, ctx.now));
      forget(ctx, caller.workspace.id);
      return node;
    },
  }),
  renameAudience: t.field({
    type: AudienceRef,
    description: "Rename an audience; its children keep it as their parent. OWNER or ADMIN members only.",
    args: { input: t.arg({ type: RenameAudienceInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, audience } = unwrap(await requireAudience(ctx, String(input.id)));
      const node = unwrap(await renameAudience(ctx.db, caller.actor, audience, { name: input.name }, ctx.now));
      forget(ctx, audience.workspaceId);
      return node;
    },
  }),
  deleteAudience: t.field({
    type: AudienceRef,
    description: "Delete an audience without children; tokens naming it stop working. Answers it as it was.",
    args: { input: t.arg({ type: DeleteAudienceInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, audience } = unwrap(await requireAudience(ctx, String(input.id)));
      const node = unwrap(await deleteAudience(ctx.db, caller.actor, audience, ctx.now));
      forget(ctx, audience.workspaceId);
      return node;
    },
  }),
  setRequireAudienceToken: t.field({
    type: WorkspaceRef,
    description:
      "Whether publishable keys of the workspace verify only with an audience token. OWNER or ADMIN members.",
    args: { input: t.arg({ type: SetRequireAudienceTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireAudienceWriter(ctx, { id: String(input.workspaceId) }));
      ctx.loaders.workspace.clear(caller.workspace.id);
      const workspace = await setRequireAudienceToken(
        ctx.db,
        caller.actor,
        caller.workspace.id,
        input.required,
        ctx.now,
      );
      forget(ctx, workspace.id);
      return workspace;
    },
  }),
}));
