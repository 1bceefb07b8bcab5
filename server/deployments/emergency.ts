import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { ApiKey, Prisma } from "../generated/prisma/client";
import type { KeyManager } from "../keys/grants";
import { announce } from "../keys/invalidation";
import { revocationReason } from "../keys/lifecycle";
import { emitKeyEvent } from "../webhooks/events";

// revokeApiKey(input: { immediate: true }): the brake for a compromised key in a
// workspace that requires deploys. The key is refused from the moment this
// commits, whatever the latest deployment says, and stays refused after any later
// deployment or rollback (keys/lookup.ts reads the flag from the key's own row).
// A key whose ordinary revocation is still waiting for a deployment can be
// revoked immediately too. Audited as its own action.

export async function revokeImmediately(
  db: Db,
  caller: KeyManager,
  key: ApiKey,
  input: { reason?: string | null },
  now: Date,
): Promise<Result<ApiKey>> {
  const reason = revocationReason(caller, key, input);
  if (!reason.ok) return reason;
  return db.$transaction((tx) => revokeImmediatelyIn(tx, caller.actor, key, reason.value, now));
}

/**
 * The brake inside a transaction the caller holds, for a change that must commit
 * with it (a leaked-key report records its own event beside it: server/leaks/).
 */
export async function revokeImmediatelyIn(
  tx: Prisma.TransactionClient,
  actor: Actor,
  key: ApiKey,
  reason: string | null,
  now: Date,
): Promise<Result<ApiKey>> {
  // Conditional updates: of two concurrent brakes, exactly one wins.
  const fresh = await tx.apiKey.updateMany({
    where: { id: key.id, revokedAt: null },
    // A revoked key never signs again: its sealed copy goes with it.
    data: { revokedAt: now, revokedReason: reason, revokedImmediately: true, sealedSecret: null },
  });
  const pending =
    fresh.count === 0 &&
    (
      await tx.apiKey.updateMany({
        where: { id: key.id, revokedImmediately: false },
        data: { revokedImmediately: true },
      })
    ).count === 1;
  if (fresh.count === 0 && !pending) return fail("validation_failed", "id: this key is already revoked", "id");
  await recordAudit(
    tx,
    actor,
    {
      workspaceId: key.workspaceId,
      action: "api_key.revoke_immediate",
      targetType: "api_key",
      targetId: key.id,
      // pendingRevocation: it had been revoked before, waiting for a deployment.
      data: { reason, start: key.start, pendingRevocation: pending },
    },
    now,
  );
  await emitKeyEvent(tx, key, "key.revoked", { reason, immediate: true }, now);
  await announce(tx, { kind: "keys", hashes: [key.hash] });
  return ok(await tx.apiKey.findUniqueOrThrow({ where: { id: key.id } }));
}
