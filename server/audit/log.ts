import { randomUUID } from "node:crypto";
import type { Db } from "../db";
import type { Prisma } from "../generated/prisma/client";
import type { AuditAction } from "./actions";
import { auditHash, type ChainCheck, checkChain, GENESIS_HASH } from "./chain";

/** Who did something: a signed-in user, an API key, a platform key, or the server itself (CLI). */
export interface Actor {
  type: "user" | "api_key" | "platform_key" | "system";
  id: string | null;
  ip: string | null;
}

export interface AuditEntry {
  workspaceId: string | null;
  action: AuditAction;
  targetType: string;
  targetId: string | null;
  data?: Prisma.InputJsonObject;
}

type Tx = Prisma.TransactionClient;

// Serialises chain appends across connections and server instances: the next row
// needs the previous row's hash, so two writers must not read the same tail.
const AUDIT_LOCK_KEY = 72_657_920;

/** Appends one event. Call it inside the transaction that makes the change it records. */
export async function recordAudit(tx: Tx, actor: Actor, entry: AuditEntry, now: Date): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})::text`;
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
  const content = {
    id: randomUUID(),
    workspaceId: entry.workspaceId,
    actorType: actor.type,
    actorId: actor.id,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    ip: actor.ip,
    data: entry.data ?? {},
    createdAt: now,
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  await tx.auditEvent.create({ data: { ...content, hash: auditHash(content) } });
}

/** Re-reads the whole log in order and checks every link. */
export async function verifyAuditChain(db: Db, batchSize = 1000): Promise<ChainCheck> {
  let prev = GENESIS_HASH;
  let checked = 0;
  let cursor = 0n;
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: { seq: { gt: cursor } },
      orderBy: { seq: "asc" },
      take: batchSize,
    });
    if (rows.length === 0) return { ok: true, checked };
    const result = checkChain(rows, prev, checked);
    if (!result.ok) return result;
    checked = result.checked;
    const tail = rows[rows.length - 1];
    if (!tail) return result;
    prev = tail.hash;
    cursor = tail.seq;
  }
}
