import { createHash } from "node:crypto";
import stringify from "safe-stable-stringify";
import type { Db } from "../db";
import { type Failure, fail, ok, type Result } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import type { SecretBox } from "./secret-box";

// Idempotency-Key for the operations that mint keys (createApiKey, rollApiKey,
// createKeyPair, regenerateKeyPair): per caller, kept 24 h. The
// record is claimed inside the same transaction that creates the key, so a
// concurrent duplicate waits on the unique index and then reads the stored answer:
// one key, whatever the timing. A failed attempt rolls its claim back.

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/** One minted key as a replay holds it: its id and its value, shown once. */
export interface Replayable {
  apiKeyId: string;
  secret: string;
}

export interface IdempotencyRequest {
  principal: string;
  key: string | null;
  operation: string;
  input: unknown;
  now: Date;
}

class Refused extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Runs `run` once per Idempotency-Key; a retry gets its answer (T is stored as JSON, sealed). */
export async function idempotent<T = Replayable>(
  db: Db,
  box: SecretBox,
  request: IdempotencyRequest,
  run: (tx: Prisma.TransactionClient) => Promise<Result<T>>,
): Promise<Result<T>> {
  if (request.key === null) {
    try {
      // Without a key, still one transaction: a failure leaves nothing behind.
      return await db.$transaction(async (tx) => {
        const result = await run(tx);
        if (!result.ok) throw new Refused(result.error);
        return result;
      });
    } catch (error) {
      if (error instanceof Refused) return { ok: false, error: error.failure };
      throw error;
    }
  }
  if (!KEY_SHAPE.test(request.key)) {
    return fail("validation_failed", "Idempotency-Key: must be 1 to 255 printable ASCII characters", "Idempotency-Key");
  }
  const key = request.key;
  const requestHash = createHash("sha256")
    .update(`${request.operation}\n${stringify(request.input)}`)
    .digest("hex");
  const expiresAt = new Date(request.now.getTime() + IDEMPOTENCY_TTL_MS);
  try {
    return await db.$transaction(async (tx): Promise<Result<T>> => {
      const claimed = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO idempotency_records (id, principal, key, operation, request_hash, created_at, expires_at)
        VALUES (gen_random_uuid(), ${request.principal}, ${key}, ${request.operation}, ${requestHash}, ${request.now}, ${expiresAt})
        ON CONFLICT (principal, key) DO UPDATE
          SET operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, encrypted_response = NULL,
              created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
          WHERE idempotency_records.expires_at <= ${request.now}
        RETURNING id::text AS id`;
      const mine = claimed[0];
      if (mine) {
        const result = await run(tx);
        if (!result.ok) throw new Refused(result.error);
        await tx.idempotencyRecord.update({
          where: { id: mine.id },
          data: { encryptedResponse: box.seal(JSON.stringify(result.value)) },
        });
        return result;
      }
      const existing = await tx.idempotencyRecord.findUniqueOrThrow({
        where: { principal_key: { principal: request.principal, key } },
      });
      if (existing.operation !== request.operation || existing.requestHash !== requestHash) {
        return fail(
          "validation_failed",
          "Idempotency-Key: already used with a different request; use a new key for a new request",
          "Idempotency-Key",
        );
      }
      const replay = existing.encryptedResponse ? box.open(existing.encryptedResponse) : null;
      if (!replay) {
        return fail(
          "validation_failed",
          "Idempotency-Key: the stored result cannot be replayed here; use a new key",
          "Idempotency-Key",
        );
      }
      return ok(JSON.parse(replay) as T);
    });
  } catch (error) {
    if (error instanceof Refused) return { ok: false, error: error.failure };
    throw error;
  }
}

/** Forgets expired records; called now and then, never on the request path's critical section. */
export async function purgeIdempotency(db: Db, now: Date): Promise<number> {
  const { count } = await db.idempotencyRecord.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}
