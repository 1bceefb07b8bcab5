import { type ChainFault, verifyWorkspaceChain } from "../audit/workspace-chain";
import { requireWorkspace } from "../auth/access";
import { builder } from "../builder";
import { unwrap } from "./result";

// The chain-verified status of one workspace's audit log (server/audit/workspace-chain.ts).

interface ChainStatus {
  ok: boolean;
  checkedEvents: number;
  checkedAt: Date;
  brokenEventId: string | null;
  reason: ChainFault | null;
}

const AuditChainFaultEnum = builder.enumType("AuditChainFault", {
  values: {
    HASH_MISMATCH: {
      value: "hash_mismatch",
      description: "The event's content no longer matches its hash: it was edited.",
    },
    BROKEN_LINK: {
      value: "broken_link",
      description:
        "The event's prevHash is not the hash of the event before it: an earlier event was deleted, inserted or reordered, or this one's prevHash was edited.",
    },
    BROKEN_NEXT_LINK: {
      value: "broken_next_link",
      description:
        "The event after this one (of any workspace) does not point back at it: an event after it was deleted or altered.",
    },
  } as const,
});

const AuditChainStatusRef = builder.objectRef<ChainStatus>("AuditChainStatus").implement({
  description: "Whether a workspace's audit events still fit the hash chain, as of checkedAt.",
  fields: (t) => ({
    ok: t.exposeBoolean("ok", { description: "true when every event of the workspace fits the chain." }),
    checkedEvents: t.exposeInt("checkedEvents", { description: "Events verified (before the broken one, if any)." }),
    checkedAt: t.expose("checkedAt", { type: "DateTime" }),
    brokenEventId: t.exposeID("brokenEventId", { nullable: true, description: "The first event that does not fit." }),
    reason: t.expose("reason", { type: AuditChainFaultEnum, nullable: true, description: "Why it does not fit." }),
  }),
});

builder.queryField("auditChain", (t) =>
  t.field({
    type: AuditChainStatusRef,
    description:
      "Re-checks a workspace's audit events against the hash chain: each event's own hash and its links to the events just before and after it. OWNER and ADMIN only.",
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { workspace } = unwrap(await requireWorkspace(ctx, { id: String(args.workspaceId) }, "audit:read"));
      const check = await verifyWorkspaceChain(ctx.db, workspace.id);
      return {
        ok: check.ok,
        checkedEvents: check.checked,
        checkedAt: ctx.now,
        brokenEventId: check.ok ? null : check.id,
        reason: check.ok ? null : check.reason,
      };
    },
  }),
);
