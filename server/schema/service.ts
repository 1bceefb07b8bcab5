import { requireService, requireWorkspace, type WorkspaceCaller } from "../auth/access";
import { builder } from "../builder";
import { apiError } from "../errors";
import type { Service } from "../generated/prisma/client";
import { createService, listServices, MAX_SERVICES, setServiceActive } from "../services/services";
import { unwrap } from "./result";

const ServiceRef = builder.objectRef<Service>("Service").implement({
  description:
    "A product area of a workspace (`forms`). Scopes name it (`service.forms.read`) and keys may be bound to it; while it is inactive, keys bound to it and verifications requiring its scopes answer service_inactive (HTTP 402).",
  fields: (t) => ({
    id: t.exposeID("id"),
    slug: t.exposeString("slug", { description: "The name scopes use: service.<slug>.<action>. Never changes." }),
    name: t.exposeString("name"),
    active: t.exposeBoolean("active", { description: "false: the service is switched off (setServiceActive)." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const CreateServiceInput = builder.inputType("CreateServiceInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    slug: t.string({
      required: true,
      description: "1–40 of a-z, 0-9 and inner hyphens, unique in the workspace; fixed once created.",
    }),
    name: t.string({ required: true, description: "Display name, up to 100 characters." }),
  }),
});

const SetServiceActiveInput = builder.inputType("SetServiceActiveInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    active: t.boolean({
      required: true,
      description: "false: keys bound to it and verifications requiring its scopes fail until it is turned back on.",
    }),
  }),
});

/** Services cover test and live keys alike, so no single (test or live) key may change them. */
function memberOnly(caller: WorkspaceCaller): void {
  if (!caller.user) {
    throw apiError({
      code: "insufficient_scope",
      message: "Services cover test and live keys alike; a workspace member (OWNER or ADMIN) must change them.",
    });
  }
}

builder.queryField("services", (t) =>
  t.field({
    type: [ServiceRef],
    description: `A workspace's services (at most ${MAX_SERVICES}), by slug. Needs workspace:read.`,
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(args.workspaceId) }, "workspace:read"));
      return listServices(ctx.db, caller.workspace.id);
    },
  }),
);

builder.mutationFields((t) => ({
  createService: t.field({
    type: ServiceRef,
    description: "Add a service to a workspace (OWNER or ADMIN). It starts active.",
    args: { input: t.arg({ type: CreateServiceInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(input.workspaceId) }, "workspace:write"));
      memberOnly(caller);
      const { workspaceId: _id, ...fields } = input;
      return unwrap(await createService(ctx.db, caller.actor, caller.workspace.id, fields, ctx.now));
    },
  }),
  setServiceActive: t.field({
    type: ServiceRef,
    description:
      "Switch a service on or off (OWNER or ADMIN), e.g. when its subscription lapses. Off takes effect on every instance as fast as a revocation.",
    args: { input: t.arg({ type: SetServiceActiveInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, service } = unwrap(await requireService(ctx, String(input.id), "workspace:write"));
      memberOnly(caller);
      const updated = await setServiceActive(ctx.db, caller.actor, service, input.active, ctx.now);
      // Before answering: once this returns, this instance answers by the new state.
      ctx.keys.bus.invalidate({ kind: "workspace", id: service.workspaceId });
      return updated;
    },
  }),
}));
