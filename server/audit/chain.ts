import { createHash } from "node:crypto";
import stringify from "safe-stable-stringify";

// The hash chain: each audit row's hash covers its own content plus the previous
// row's hash. Editing, deleting or reordering any row changes every hash after it.

export const GENESIS_HASH = "0".repeat(64);

export interface ChainedContent {
  id: string;
  workspaceId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  ip: string | null;
  data: unknown;
  createdAt: Date;
  prevHash: string;
}

export function auditHash(row: ChainedContent): string {
  // A fixed field order and sorted JSON keys, so the hash does not depend on how
  // the database happens to return jsonb.
  const canonical = stringify([
    row.prevHash,
    row.id,
    row.workspaceId,
    row.actorType,
    row.actorId,
    row.action,
    row.targetType,
    row.targetId,
    row.ip,
    row.data ?? null,
    row.createdAt.toISOString(),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

export type ChainCheck =
  | { ok: true; checked: number }
  | { ok: false; checked: number; seq: bigint; id: string; reason: "hash_mismatch" | "broken_link" };

/** Walks rows in sequence order; stops at the first row that does not fit the chain. */
export function checkChain(
  rows: Iterable<ChainedContent & { seq: bigint; hash: string }>,
  previous = GENESIS_HASH,
  counted = 0,
): ChainCheck {
  let checked = counted;
  let prev = previous;
  for (const row of rows) {
    if (row.prevHash !== prev) return { ok: false, checked, seq: row.seq, id: row.id, reason: "broken_link" };
    if (auditHash(row) !== row.hash) return { ok: false, checked, seq: row.seq, id: row.id, reason: "hash_mismatch" };
    prev = row.hash;
    checked++;
  }
  return { ok: true, checked };
}
