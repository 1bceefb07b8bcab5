import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { PlatformKey, Prisma } from "../generated/prisma/client";
import { hashKey } from "../keys/format";
import { keyName, reasonSchema } from "../keys/input";
import { announce } from "../keys/invalidation";
import { isUuid } from "../loaders";
import { validate } from "../validation";
import { generatePlatformKey, platformKeyStart } from "./format";
import { platformScopesSchema } from "./scopes";

// Creating and revoking platform keys. Each change and its audit event commit
// together, and announce the key's hash so every instance drops it from its cache;
// the caller also drops it here before answering (bus.invalidate). The new key's
// value leaves only in the returned `secret`.

export interface CreatedPlatformKey {
  platformKey: PlatformKey;
  secret: string;
}

const future = (now: Date) => z.date().refine((date) => date.getTime() > now.getTime(), "must be in the future");

const createSchema = (now: Date) =>
  z.object({
    name: keyName,
    scopes: platformScopesSchema,
    expiresAt: future(now).nullish(),
  });

const auditData = (key: PlatformKey) => ({
  name: key.name,
  start: key.start,
  scopes: key.scopes,
  expiresAt: key.expiresAt?.toISOString() ?? null,
});

export async function createPlatformKey(
  db: Db,
  actor: Actor,
  input: unknown,
  now: Date,
): Promise<Result<CreatedPlatformKey>> {
  const valid = validate(createSchema(now), input);
  if (!valid.ok) return valid;
  const secret = generatePlatformKey();
  const platformKey = await db.$transaction(async (tx) => {
    const row = await tx.platformKey.create({
      data: {
        name: valid.value.name,
        scopes: valid.value.scopes,
        expiresAt: valid.value.expiresAt ?? null,
        hash: hashKey(secret),
        start: platformKeyStart(secret),
        createdById: actor.type === "user" ? actor.id : null,
      },
    });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: null,
        action: "platform_key.create",
        targetType: "platform_key",
        targetId: row.id,
        data: auditData(row),
      },
      now,
    );
    // The new hash may sit in a negative cache from an earlier probe.
    await announce(tx, { kind: "keys", hashes: [row.hash] });
    return row;
  });
  return ok({ platformKey, secret });
}

export async function revokePlatformKey(
  db: Db,
  actor: Actor,
  input: { id: string; reason?: string | null },
  now: Date,
): Promise<Result<PlatformKey>> {
  const missing = fail("not_found", "No such platform key.", "id");
  if (!isUuid(input.id)) return missing;
  const reason = validate(reasonSchema.nullish(), input.reason);
  if (!reason.ok) return fail("validation_failed", `reason: ${reason.error.message}`, "reason");
  return db.$transaction((tx) => revokePlatformKeyIn(tx, actor, input.id, reason.value ?? null, now));
}

/** The revocation inside a caller's transaction (a leaked-key report records its own event beside it). */
export async function revokePlatformKeyIn(
  tx: Prisma.TransactionClient,
  actor: Actor,
  id: string,
  reason: string | null,
  now: Date,
): Promise<Result<PlatformKey>> {
  // Conditional update: of two concurrent revokes, exactly one wins.
  const { count } = await tx.platformKey.updateMany({
    where: { id, revokedAt: null },
    data: { revokedAt: now, revokedReason: reason },
  });
  const row = await tx.platformKey.findUnique({ where: { id } });
  if (!row) return fail("not_found", "No such platform key.", "id");
  if (count === 0) return fail("validation_failed", "id: this platform key is already revoked", "id");
  await recordAudit(
    tx,
    actor,
    {
      workspaceId: null,
      action: "platform_key.revoke",
      targetType: "platform_key",
      targetId: row.id,
      data: { reason, start: row.start },
    },
    now,
  );
  await announce(tx, { kind: "keys", hashes: [row.hash] });
  return ok(row);
}
