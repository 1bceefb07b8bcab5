import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { auditFilterWhere } from "../audit/filter";
import { requireWorkspace } from "../auth/access";
import { builder } from "../builder";
import { apiError } from "../errors";
import type { AuditEvent } from "../generated/prisma/client";
import { checkedPage, PAGE_SIZE } from "./pagination";
import { unwrap } from "./result";

const AuditEventRef = builder.objectRef<AuditEvent>("AuditEvent").implement({
  description: "One recorded change. Rows are append-only and hash-chained, so tampering is detectable.",
  fields: (t) => ({
    id: t.exposeID("id"),
    action: t.exposeString("action", { description: "What happened, e.g. member.add or workspace.create." }),
    actorType: t.exposeString("actorType", { description: "user, api_key or system." }),
    actorId: t.exposeString("actorId", { nullable: true }),
    targetType: t.exposeString("targetType"),
    targetId: t.exposeString("targetId", { nullable: true }),
    ip: t.exposeString("ip", { nullable: true }),
    data: t.expose("data", { type: "JSON", description: "Details of the change (never secrets)." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    hash: t.exposeString("hash", { description: "SHA-256 of this row's content and prevHash." }),
    prevHash: t.exposeString("prevHash"),
  }),
});

const CURSOR = /^[1-9]\d{0,18}$/;

function seqFromCursor(cursor: string | undefined): bigint | undefined {
  if (cursor === undefined) return undefined;
  // A cursor is a positive bigint (int8) sequence number; anything else was not issued here.
  if (!CURSOR.test(cursor) || BigInt(cursor) > 9_223_372_036_854_775_807n) {
    throw apiError({
      code: "validation_failed",
      message: "Malformed cursor: pass a cursor from this connection.",
      field: "after",
    });
  }
  return BigInt(cursor);
}

builder.queryField("auditEvents", (t) =>
  t.connection(
    {
      type: AuditEventRef,
      description:
        "A workspace's audit log, newest first, optionally filtered. OWNER and ADMIN only. Cursors stay valid under the same filters.",
      args: {
        workspaceId: t.arg.id({ required: true }),
        action: t.arg.string({
          description:
            "Only this action, exactly (e.g. member.add): one of the actions a workspace's log records, listed by the SDK's auditActions.",
        }),
        actorId: t.arg.id({ description: "Only events by this user or key (its id)." }),
        from: t.arg({ type: "DateTime", description: "Only events at or after this instant (inclusive)." }),
        to: t.arg({
          type: "DateTime",
          description: "Only events before this instant (exclusive); must be after `from`.",
        }),
      },
      resolve: async (_root, args, ctx) => {
        const { workspace } = unwrap(await requireWorkspace(ctx, { id: String(args.workspaceId) }, "audit:read"));
        const where = unwrap(
          auditFilterWhere(workspace.id, {
            action: args.action,
            actorId: args.actorId == null ? args.actorId : String(args.actorId),
            from: args.from,
            to: args.to,
          }),
        );
        const connection = await resolveCursorConnection(
          {
            args: checkedPage(args),
            toCursor: (event: AuditEvent) => event.seq.toString(),
            defaultSize: PAGE_SIZE.default,
            maxSize: PAGE_SIZE.max,
          },
          ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) =>
            ctx.db.auditEvent.findMany({
              where: { ...where, seq: { lt: seqFromCursor(after), gt: seqFromCursor(before) } },
              orderBy: { seq: inverted ? "asc" : "desc" },
              take: limit,
            }),
        );
        return { ...connection, totalCount: await ctx.db.auditEvent.count({ where }) };
      },
    },
    {
      name: "AuditEventConnection",
      fields: (c) => ({
        totalCount: c.int({ resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount }),
      }),
    },
    { name: "AuditEventEdge" },
  ),
);
