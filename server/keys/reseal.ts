import type { Db } from "../db";
import type { MasterKeyring } from "./secret-box";

// rotate-master-key's second half: every sealed copy not yet under the keyring's
// current key is opened and sealed again, in small transactions (rows locked with
// FOR UPDATE, so a concurrent change, say a webhook secret rotated meanwhile, is
// re-read rather than overwritten), while the server keeps serving: the keyring
// opens both old and new values throughout. Running it again re-seals nothing.
// A value no key in the ring opens is left as it is and counted.

export const SEALED_COLUMNS = [
  { table: "api_keys", column: "sealed_secret" },
  { table: "webhook_endpoints", column: "sealed_secret" },
  { table: "webhook_endpoints", column: "previous_sealed_secret" },
  { table: "idempotency_records", column: "encrypted_response" },
] as const;

export interface ResealSummary {
  keyId: string;
  resealed: number;
  /** Sealed under a key the ring does not hold: left as they are. */
  unreadable: number;
  columns: { column: string; resealed: number; unreadable: number }[];
}

const FIRST_ID = "00000000-0000-0000-0000-000000000000";

export async function resealAll(db: Db, box: MasterKeyring, batchSize = 200): Promise<ResealSummary> {
  const keyId = box.currentId();
  const mark = `${keyId}.`;
  const summary: ResealSummary = { keyId, resealed: 0, unreadable: 0, columns: [] };
  for (const { table, column } of SEALED_COLUMNS) {
    const counts = { column: `${table}.${column}`, resealed: 0, unreadable: 0 };
    let cursor = FIRST_ID;
    for (;;) {
      // Table and column names are the constants above, never input.
      const rows = await db.$transaction(async (tx) => {
        const batch = await tx.$queryRawUnsafe<{ id: string; sealed: string }[]>(
          `SELECT id::text AS id, ${column} AS sealed FROM ${table}
           WHERE ${column} IS NOT NULL AND left(${column}, ${mark.length}) <> $1 AND id > $2::uuid
           ORDER BY id LIMIT ${batchSize} FOR UPDATE`,
          mark,
          cursor,
        );
        for (const row of batch) {
          const plaintext = box.open(row.sealed);
          if (plaintext === null) {
            counts.unreadable++;
            continue;
          }
          await tx.$executeRawUnsafe(
            `UPDATE ${table} SET ${column} = $1 WHERE id = $2::uuid`,
            box.seal(plaintext),
            row.id,
          );
          counts.resealed++;
        }
        return batch;
      });
      const last = rows.at(-1);
      if (!last) break;
      cursor = last.id;
    }
    summary.resealed += counts.resealed;
    summary.unreadable += counts.unreadable;
    summary.columns.push(counts);
  }
  return summary;
}
