import type { Db } from "../db";
import { auditHash, GENESIS_HASH } from "./chain";

// One workspace's share of the global hash chain. The chain runs through every
// workspace's rows in `seq` order, so a workspace's rows are checked against their
// global neighbours — but only the neighbours' seq, hash and prev_hash are read,
// never another workspace's content.

export type ChainFault = "hash_mismatch" | "broken_link" | "broken_next_link";

export type WorkspaceChainCheck =
  | { ok: true; checked: number }
  | { ok: false; checked: number; seq: bigint; id: string; reason: ChainFault };

interface Neighbours {
  seq: string;
  predHash: string | null;
  succSeq: string | null;
  succPrevHash: string | null;
}

/** For each seq: the hash of the row just before it and the link of the row just after it (any workspace). */
async function neighboursOf(db: Db, seqs: bigint[]): Promise<Map<string, Neighbours>> {
  const rows = await db.$queryRaw<Neighbours[]>`
    SELECT w.seq::text AS seq, p.hash AS "predHash", n.seq::text AS "succSeq", n.prev_hash AS "succPrevHash"
    FROM unnest(${seqs.map(String)}::text[]::bigint[]) AS w(seq)
    LEFT JOIN LATERAL (
      SELECT e.hash FROM audit_events e WHERE e.seq < w.seq ORDER BY e.seq DESC LIMIT 1
    ) p ON true
    LEFT JOIN LATERAL (
      SELECT e.seq, e.prev_hash FROM audit_events e WHERE e.seq > w.seq ORDER BY e.seq ASC LIMIT 1
    ) n ON true`;
  return new Map(rows.map((row) => [row.seq, row]));
}

/**
 * Checks every row of one workspace, oldest first, in batches: its own hash, that
 * its prevHash is the hash of the row before it, and that the row after it points
 * back at it. Stops at the first fault.
 */
export async function verifyWorkspaceChain(db: Db, workspaceId: string, batchSize = 500): Promise<WorkspaceChainCheck> {
  let checked = 0;
  let cursor = 0n;
  // A row whose successor does not point back at it. If that successor is the
  // workspace's own next row, the successor's own link check names it instead.
  let pending: { seq: bigint; id: string; succSeq: string } | null = null;
  for (;;) {
    const rows = await db.auditEvent.findMany({
      where: { workspaceId, seq: { gt: cursor } },
      orderBy: { seq: "asc" },
      take: batchSize,
    });
    if (rows.length === 0) break;
    const neighbours = await neighboursOf(
      db,
      rows.map((row) => row.seq),
    );
    for (const row of rows) {
      if (pending) {
        if (pending.succSeq !== row.seq.toString()) {
          return { ok: false, checked, seq: pending.seq, id: pending.id, reason: "broken_next_link" };
        }
        pending = null;
        checked++;
      }
      const around = neighbours.get(row.seq.toString());
      if (row.prevHash !== (around?.predHash ?? GENESIS_HASH)) {
        return { ok: false, checked, seq: row.seq, id: row.id, reason: "broken_link" };
      }
      if (auditHash(row) !== row.hash) return { ok: false, checked, seq: row.seq, id: row.id, reason: "hash_mismatch" };
      if (around?.succSeq && around.succPrevHash !== row.hash) {
        pending = { seq: row.seq, id: row.id, succSeq: around.succSeq };
      } else {
        checked++;
      }
    }
    cursor = rows[rows.length - 1]?.seq ?? cursor;
  }
  if (pending) return { ok: false, checked, seq: pending.seq, id: pending.id, reason: "broken_next_link" };
  return { ok: true, checked };
}
