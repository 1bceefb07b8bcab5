import { recordAudit } from "../audit/log";
import { type Failure, fail, ok, type Result } from "../errors";
import type { ApiKey, Prisma } from "../generated/prisma/client";
import type { KeyManager } from "./grants";
import { type CreatedKey, createApiKey, rollApiKey } from "./lifecycle";
import type { SecretBox } from "./secret-box";
import { keyStatus } from "./status";

// Key pairs: a publishable key and a secret key made together (createKeyPair), as
// a chat widget's browser half and server half for one environment. Each half
// names the other (pairedWithId). regenerateKeyPair rotates both in one
// transaction, so a failure anywhere leaves the old pair exactly as it was; a half
// is never rolled alone (rollApiKey refuses it).

type Tx = Prisma.TransactionClient;

export interface CreatedPair {
  publishable: CreatedKey;
  secret: CreatedKey;
}

/** createKeyPair's input: what both halves share, and what each half has of its own. */
export interface PairInput {
  name: unknown;
  environment: unknown;
  serviceId?: unknown;
  expiresAt?: unknown;
  metadata?: unknown;
  publishable: { scopes?: unknown; allowedOrigins?: unknown; rateLimit?: unknown };
  secret: { scopes?: unknown; allowedIps?: unknown; rateLimit?: unknown };
}

type Half = "publishable" | "secret";
const OWN_FIELDS = ["scopes", "allowedOrigins", "allowedIps", "rateLimit"];

/** A half's own fields are named under it (secret.scopes); shared ones stay as they are. */
function underHalf(half: Half, failure: Failure): Failure {
  const field = failure.field;
  if (!field || !OWN_FIELDS.includes(field.split(".")[0] ?? "")) return failure;
  return { ...failure, field: `${half}.${field}`, message: `${half}.${failure.message}` };
}

async function link(tx: Tx, publishable: CreatedKey, secret: CreatedKey): Promise<CreatedPair> {
  const pk = await tx.apiKey.update({ where: { id: publishable.apiKey.id }, data: { pairedWithId: secret.apiKey.id } });
  const sk = await tx.apiKey.update({ where: { id: secret.apiKey.id }, data: { pairedWithId: pk.id } });
  return { publishable: { ...publishable, apiKey: pk }, secret: { ...secret, apiKey: sk } };
}

const starts = (pair: CreatedPair) => ({
  publishableKeyId: pair.publishable.apiKey.id,
  publishableStart: pair.publishable.apiKey.start,
  secretKeyId: pair.secret.apiKey.id,
  secretStart: pair.secret.apiKey.start,
});

export async function createKeyPair(
  tx: Tx,
  caller: KeyManager,
  input: PairInput,
  now: Date,
  box: SecretBox,
): Promise<Result<CreatedPair>> {
  const { publishable: pkOwn, secret: skOwn, ...shared } = input;
  // Each half goes through every rule of createApiKey (scopes, grants, shape, services).
  const pk = await createApiKey(tx, caller, { ...shared, ...pkOwn, type: "PUBLISHABLE" }, now, box);
  if (!pk.ok) return { ok: false, error: underHalf("publishable", pk.error) };
  const sk = await createApiKey(tx, caller, { ...shared, ...skOwn, type: "SECRET" }, now, box);
  if (!sk.ok) return { ok: false, error: underHalf("secret", sk.error) };
  const pair = await link(tx, pk.value, sk.value);
  await recordAudit(
    tx,
    caller.actor,
    {
      workspaceId: caller.workspaceId,
      action: "api_key_pair.create",
      targetType: "api_key",
      targetId: pair.publishable.apiKey.id,
      data: starts(pair),
    },
    now,
  );
  return ok(pair);
}

function halfRefusal(key: ApiKey, now: Date): Failure | null {
  const half = key.type === "PUBLISHABLE" ? "publishable" : "secret";
  const status = keyStatus(key, now);
  if (status === "REVOKED" || status === "EXPIRED") {
    return {
      code: "validation_failed",
      message: `id: the pair's ${half} key is ${status.toLowerCase()}, so the pair cannot be regenerated; make a new one with createKeyPair`,
      field: "id",
    };
  }
  return null;
}

/**
 * Rolls both halves of the pair `key` belongs to: two new keys, paired with each
 * other, and the old two kept working for gracePeriodSeconds (0: they break now).
 */
export async function regenerateKeyPair(
  tx: Tx,
  caller: KeyManager,
  key: ApiKey,
  input: { gracePeriodSeconds: number },
  now: Date,
  box: SecretBox,
): Promise<Result<CreatedPair>> {
  if (!key.pairedWithId) {
    return fail(
      "validation_failed",
      "id: this key is not one half of a pair (createKeyPair makes pairs); roll it with rollApiKey",
      "id",
    );
  }
  // Both rows, in one order, so two regenerations of one pair queue instead of deadlocking.
  const ids = [key.id, key.pairedWithId].sort();
  await tx.$queryRaw`SELECT id FROM api_keys WHERE id IN (${ids[0]}::uuid, ${ids[1]}::uuid) ORDER BY id FOR UPDATE`;
  const rows = await tx.apiKey.findMany({
    where: { id: { in: ids } },
    include: { rolledTo: { select: { id: true } } },
  });
  const pk = rows.find((row) => row.type === "PUBLISHABLE");
  const sk = rows.find((row) => row.type === "SECRET");
  if (!pk || !sk) throw new Error(`key pair ${ids.join("/")} is not one publishable and one secret key`);
  if (pk.rolledTo || sk.rolledTo) {
    return fail("validation_failed", "id: this pair was already regenerated; regenerate its successor instead", "id");
  }
  const refused = halfRefusal(pk, now) ?? halfRefusal(sk, now);
  if (refused) return { ok: false, error: refused };
  const { rolledTo: _pk, ...pkRow } = pk;
  const { rolledTo: _sk, ...skRow } = sk;
  const newPk = await rollApiKey(tx, caller, pkRow, input, now, box, true);
  if (!newPk.ok) return { ok: false, error: underHalf("publishable", newPk.error) };
  const newSk = await rollApiKey(tx, caller, skRow, input, now, box, true);
  if (!newSk.ok) return { ok: false, error: underHalf("secret", newSk.error) };
  const pair = await link(tx, newPk.value, newSk.value);
  await recordAudit(
    tx,
    caller.actor,
    {
      workspaceId: key.workspaceId,
      action: "api_key_pair.regenerate",
      targetType: "api_key",
      targetId: pk.id,
      data: {
        oldPublishableKeyId: pk.id,
        oldSecretKeyId: sk.id,
        ...starts(pair),
        gracePeriodSeconds: input.gracePeriodSeconds,
      },
    },
    now,
  );
  return ok(pair);
}
