import { z } from "zod";
import { type Actor, recordAudit } from "../audit/log";
import type { Db } from "../db";
import { type Failure, fail, ok, type Result } from "../errors";
import type { ApiKey, Prisma } from "../generated/prisma/client";
import { validate } from "../validation";
import { emitKeyEvent, emitWebhookEvent } from "../webhooks/events";
import { generateKey, hashKey, keyStart } from "./format";
import {
  checkEnvironment,
  checkGrant,
  checkRate,
  checkSelfChange,
  checkShape,
  type KeyManager,
  type KeySettings,
} from "./grants";
import {
  DEFAULT_RATE_LIMITS,
  effectiveLimit,
  ipsSchema,
  keyName,
  MAX_GRACE_SECONDS,
  metadataSchema,
  originsSchema,
  rateLimitSchema,
  reasonSchema,
  scopesSchema,
} from "./input";
import { announce } from "./invalidation";
import { effectiveScopes } from "./scopes";
import type { SecretBox } from "./secret-box";
import { bindService, checkServiceRefs } from "./service-refs";
import { checkSigningGrant, checkSigningRoom, signingChange } from "./signing";
import { keyStatus } from "./status";

export type { KeyManager } from "./grants";

// Creating, changing, rolling and revoking keys. Every change and its audit event
// commit together; the new key's value leaves only in the returned `secret`.

/** The caller, already admitted to the workspace with keys:write. */
export interface CreatedKey {
  apiKey: ApiKey;
  secret: string;
}

type Tx = Prisma.TransactionClient;

const future = (now: Date) => z.date().refine((date) => date.getTime() > now.getTime(), "must be in the future");

const createSchema = (now: Date) =>
  z.object({
    name: keyName,
    type: z.enum(["SECRET", "PUBLISHABLE"]),
    environment: z.enum(["TEST", "LIVE"]),
    scopes: scopesSchema.default([]),
    allowedOrigins: originsSchema.default([]),
    allowedIps: ipsSchema.default([]),
    expiresAt: future(now).nullish(),
    rateLimit: rateLimitSchema.nullish(),
    metadata: metadataSchema.nullish(),
    canSignTokens: z.boolean().nullish(),
    serviceId: z.string().nullish(),
  });

const updateSchema = (now: Date) =>
  z.object({
    name: keyName.nullish(),
    scopes: scopesSchema.nullish(),
    allowedOrigins: originsSchema.nullish(),
    allowedIps: ipsSchema.nullish(),
    expiresAt: future(now).nullish(),
    rateLimit: rateLimitSchema.nullish(),
    metadata: metadataSchema.nullish(),
    canSignTokens: z.boolean().nullish(),
  });

const failed = (failure: Failure): { ok: false; error: Failure } => ({ ok: false, error: failure });

const auditData = (key: ApiKey) => ({
  name: key.name,
  type: key.type,
  environment: key.environment,
  start: key.start,
  scopes: key.scopes,
  canSignTokens: key.canSignTokens,
});

async function insertKey(
  tx: Tx,
  data: Omit<Prisma.ApiKeyUncheckedCreateInput, "hash" | "start" | "sealedSecret">,
  box: SecretBox,
): Promise<CreatedKey> {
  const secret = generateKey(data.type, data.environment);
  // A signing key keeps its value sealed: verifying a token's signature needs it (keys/signing.ts).
  const sealedSecret = data.canSignTokens ? box.seal(secret) : null;
  const apiKey = await tx.apiKey.create({
    data: { ...data, hash: hashKey(secret), start: keyStart(secret), sealedSecret },
  });
  return { apiKey, secret };
}

function creator(caller: KeyManager) {
  return caller.actor.type === "user" ? { createdById: caller.actor.id } : { createdByKeyId: caller.actor.id };
}

export async function createApiKey(
  tx: Tx,
  caller: KeyManager,
  input: unknown,
  now: Date,
  box: SecretBox,
): Promise<Result<CreatedKey>> {
  const valid = validate(createSchema(now), input);
  if (!valid.ok) return valid;
  const v = valid.value;
  const canSignTokens = v.canSignTokens ?? false;
  const refused =
    checkEnvironment(caller, v.environment) ??
    checkGrant(caller, v.scopes) ??
    checkRate(caller, v.rateLimit ?? DEFAULT_RATE_LIMITS[v.type]) ??
    checkShape(v) ??
    checkSigningGrant(caller, { type: v.type, canSignTokens }) ??
    (canSignTokens ? await checkSigningRoom(tx, caller.workspaceId, v.environment, now) : null);
  if (refused) return failed(refused);
  const service = await bindService(tx, caller, v);
  if ("code" in service) return failed(service);
  const created = await insertKey(
    tx,
    {
      workspaceId: caller.workspaceId,
      environment: v.environment,
      type: v.type,
      name: v.name,
      scopes: v.scopes,
      allowedOrigins: v.allowedOrigins,
      allowedIps: v.allowedIps,
      serviceId: service.serviceId,
      expiresAt: v.expiresAt ?? null,
      rateLimitLimit: v.rateLimit?.limit ?? null,
      rateLimitWindowSeconds: v.rateLimit?.windowSeconds ?? null,
      metadata: (v.metadata ?? {}) as Prisma.InputJsonObject,
      canSignTokens,
      ...creator(caller),
    },
    box,
  );
  await recordAudit(
    tx,
    caller.actor,
    {
      workspaceId: caller.workspaceId,
      action: "api_key.create",
      targetType: "api_key",
      targetId: created.apiKey.id,
      data: auditData(created.apiKey),
    },
    now,
  );
  await emitKeyEvent(tx, created.apiKey, "key.created", {}, now);
  // The new key's hash may sit in a negative cache from an earlier probe.
  await announce(tx, { kind: "keys", hashes: [created.apiKey.hash] });
  // A new signer: the workspace's cached signing keys are stale (server/audience/cache.ts).
  if (canSignTokens) await announce(tx, { kind: "workspace", id: caller.workspaceId });
  return ok(created);
}

export async function updateApiKey(
  db: Db,
  caller: KeyManager,
  key: ApiKey,
  input: unknown,
  now: Date,
): Promise<Result<ApiKey>> {
  const valid = validate(updateSchema(now), input);
  if (!valid.ok) return valid;
  const v = valid.value;
  if (key.revokedAt) return fail("validation_failed", "id: a revoked key cannot be changed", "id");
  const changed = Object.keys(v).filter((field) => v[field as keyof typeof v] != null);
  const next: KeySettings = {
    type: key.type,
    // A publishable key's stored scopes from before its rules grant nothing and need not block a rename.
    scopes: v.scopes ?? effectiveScopes(key),
    allowedOrigins: v.allowedOrigins ?? key.allowedOrigins,
    allowedIps: v.allowedIps ?? key.allowedIps,
  };
  const refused =
    checkEnvironment(caller, key.environment) ??
    checkSelfChange(caller, key, changed) ??
    (v.scopes ? checkGrant(caller, v.scopes) : null) ??
    (v.rateLimit ? checkRate(caller, v.rateLimit) : null) ??
    checkShape(next);
  if (refused) return failed(refused);
  const signing = signingChange(key, v.canSignTokens);
  if ("code" in signing) return failed(signing);
  const serviceRefused = v.scopes ? await checkServiceRefs(db, key.workspaceId, { ...key, scopes: v.scopes }) : null;
  if (serviceRefused) return failed(serviceRefused);
  const data: Prisma.ApiKeyUpdateInput = {
    ...signing,
    ...(v.name != null ? { name: v.name } : {}),
    ...(v.scopes ? { scopes: v.scopes } : {}),
    ...(v.allowedOrigins ? { allowedOrigins: v.allowedOrigins } : {}),
    ...(v.allowedIps ? { allowedIps: v.allowedIps } : {}),
    ...(v.expiresAt ? { expiresAt: v.expiresAt } : {}),
    ...(v.rateLimit ? { rateLimitLimit: v.rateLimit.limit, rateLimitWindowSeconds: v.rateLimit.windowSeconds } : {}),
    ...(v.metadata ? { metadata: v.metadata as Prisma.InputJsonObject } : {}),
  };
  const updated = await db.$transaction(async (tx) => {
    const row = await tx.apiKey.update({ where: { id: key.id }, data });
    await recordAudit(
      tx,
      caller.actor,
      {
        workspaceId: key.workspaceId,
        action: "api_key.update",
        targetType: "api_key",
        targetId: key.id,
        data: { changed, ...auditData(row) },
      },
      now,
    );
    await emitKeyEvent(tx, key, "key.updated", { changed }, now);
    await announce(tx, { kind: "keys", hashes: [key.hash] });
    return row;
  });
  return ok(updated);
}

export async function rollApiKey(
  tx: Tx,
  caller: KeyManager,
  key: ApiKey,
  input: { gracePeriodSeconds: number },
  now: Date,
  box: SecretBox,
  /** Set by regenerateKeyPair, which rolls both halves of a pair together. */
  asPair = false,
): Promise<Result<CreatedKey>> {
  const grace = input.gracePeriodSeconds;
  if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) {
    return fail(
      "validation_failed",
      `gracePeriodSeconds: must be a whole number from 0 to ${MAX_GRACE_SECONDS} (7 days)`,
      "gracePeriodSeconds",
    );
  }
  // Alone, one half would leave its partner paired with a key on its way out.
  if (key.pairedWithId && !asPair)
    return fail(
      "validation_failed",
      "id: this key is one half of a pair: regenerate both with regenerateKeyPair",
      "id",
    );
  // Lock the row, then read it again and look for a successor: under READ COMMITTED
  // each statement sees what committed before it started, so a roll that waited for
  // the lock sees the successor the winner just made, and a revoke that committed
  // after the caller loaded the key (and may have answered already) refuses the roll.
  await tx.$queryRaw`SELECT id FROM api_keys WHERE id = ${key.id}::uuid FOR UPDATE`;
  const current = await tx.apiKey.findUniqueOrThrow({ where: { id: key.id } });
  const status = keyStatus(current, now);
  if (status === "REVOKED")
    return fail("validation_failed", "id: a revoked key cannot be rolled; create a new key", "id");
  if (status === "EXPIRED")
    return fail("validation_failed", "id: an expired key cannot be rolled; create a new key", "id");
  if (await tx.apiKey.findUnique({ where: { rolledFromId: key.id }, select: { id: true } })) {
    return fail("validation_failed", "id: this key was already rolled; roll its successor instead", "id");
  }
  const scopes = effectiveScopes(current);
  const refused =
    checkEnvironment(caller, current.environment) ??
    checkGrant(caller, scopes) ??
    checkRate(caller, effectiveLimit(current)) ??
    checkSigningGrant(caller, current);
  if (refused) return failed(refused);
  const created = await insertKey(
    tx,
    {
      workspaceId: current.workspaceId,
      environment: current.environment,
      type: current.type,
      name: current.name,
      scopes,
      allowedOrigins: current.allowedOrigins,
      allowedIps: current.allowedIps,
      serviceId: current.serviceId,
      expiresAt: current.expiresAt,
      rateLimitLimit: current.rateLimitLimit,
      rateLimitWindowSeconds: current.rateLimitWindowSeconds,
      metadata: current.metadata as Prisma.InputJsonValue,
      canSignTokens: current.canSignTokens,
      rolledFromId: key.id,
      ...creator(caller),
    },
    box,
  );
  const graceUntil = new Date(now.getTime() + grace * 1000);
  await tx.apiKey.update({ where: { id: key.id }, data: { graceUntil } });
  await recordAudit(
    tx,
    caller.actor,
    {
      workspaceId: key.workspaceId,
      action: "api_key.roll",
      targetType: "api_key",
      targetId: key.id,
      data: {
        newKeyId: created.apiKey.id,
        newStart: created.apiKey.start,
        gracePeriodSeconds: grace,
        graceUntil: graceUntil.toISOString(),
      },
    },
    now,
  );
  const rolled = { newKeyId: created.apiKey.id, graceUntil: graceUntil.toISOString() };
  await emitKeyEvent(tx, key, "key.rolled", rolled, now);
  await announce(tx, { kind: "keys", hashes: [key.hash, created.apiKey.hash] });
  // The successor signs too, with its own secret; the old key signs until its grace ends.
  if (key.canSignTokens) await announce(tx, { kind: "workspace", id: key.workspaceId });
  return ok(created);
}

/** The reason a revocation records (validated), if the caller may revoke this key at all. */
export function revocationReason(
  caller: KeyManager,
  key: ApiKey,
  input: { reason?: string | null },
): Result<string | null> {
  const reason = validate(reasonSchema.nullish(), input.reason);
  if (!reason.ok) return fail("validation_failed", `reason: ${reason.error.message}`, "reason");
  const refused = checkEnvironment(caller, key.environment);
  if (refused) return failed(refused);
  return ok(reason.value ?? null);
}

export async function revokeApiKey(
  db: Db,
  caller: KeyManager,
  key: ApiKey,
  input: { reason?: string | null },
  now: Date,
): Promise<Result<ApiKey>> {
  const reason = revocationReason(caller, key, input);
  if (!reason.ok) return reason;
  return db.$transaction(async (tx): Promise<Result<ApiKey>> => {
    // Conditional update: of two concurrent revokes, exactly one wins.
    const { count } = await tx.apiKey.updateMany({
      where: { id: key.id, revokedAt: null },
      // A revoked key never signs again: its sealed copy goes with it.
      data: { revokedAt: now, revokedReason: reason.value, sealedSecret: null },
    });
    if (count === 0) return fail("validation_failed", "id: this key is already revoked", "id");
    await recordAudit(
      tx,
      caller.actor,
      {
        workspaceId: key.workspaceId,
        action: "api_key.revoke",
        targetType: "api_key",
        targetId: key.id,
        data: { reason: reason.value, start: key.start },
      },
      now,
    );
    await emitKeyEvent(tx, key, "key.revoked", { reason: reason.value }, now);
    await announce(tx, { kind: "keys", hashes: [key.hash] });
    return ok(await tx.apiKey.findUniqueOrThrow({ where: { id: key.id } }));
  });
}

export async function setKeysEnabled(db: Db, actor: Actor, workspaceId: string, enabled: boolean, now: Date) {
  return db.$transaction(async (tx) => {
    const workspace = await tx.workspace.update({ where: { id: workspaceId }, data: { keysEnabled: enabled } });
    await recordAudit(
      tx,
      actor,
      {
        workspaceId,
        action: enabled ? "workspace.keys_enable" : "workspace.keys_disable",
        targetType: "workspace",
        targetId: workspaceId,
      },
      now,
    );
    const toggled = { workspaceId, environment: null, type: "keys.toggled", data: { workspaceId, enabled } } as const;
    await emitWebhookEvent(tx, toggled, now);
    await announce(tx, { kind: "workspace", id: workspaceId });
    return workspace;
  });
}
