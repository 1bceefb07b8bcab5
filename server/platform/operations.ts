import type { Actor } from "../audit/log";
import { verifyAuditChain } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { PlatformKey } from "../generated/prisma/client";
import { createPlatformAdmin } from "../identity/accounts";
import { type ImportSummary, importKeys } from "../keys/import";
import type { Invalidation } from "../keys/invalidation";
import { exportWorkspace } from "../workspaces/export";
import { createPlatformKey, revokePlatformKey } from "./lifecycle";
import { platformKeyStatus } from "./status";

// The operator's commands (`npm run admin -- …`) as one interface with two ways to
// run it: on the database directly (PostgreSQL any time; the embedded database
// while no server holds it), or inside the running server through its local admin
// channel (admin-channel.ts). Both run these same functions, so the answers are the
// same: plain JSON values, never a hash, and a new key's secret only in the answer
// that made it.

export interface PlatformKeyView {
  id: string;
  name: string;
  start: string;
  scopes: string[];
  status: string;
  createdById: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
}

export type AuditCheckView =
  | { ok: true; checked: number }
  | { ok: false; checked: number; seq: string; id: string; reason: string };

export interface OperatorCommands {
  createPlatformKey(input: {
    name: string;
    scopes: string[];
    expiresAt?: string | null;
  }): Promise<Result<{ platformKey: PlatformKeyView; secret: string }>>;
  listPlatformKeys(): Promise<Result<PlatformKeyView[]>>;
  revokePlatformKey(input: { id: string; reason?: string | null }): Promise<Result<PlatformKeyView>>;
  createAdmin(input: { email: string; name: string; password: string }): Promise<Result<{ id: string; email: string }>>;
  verifyAudit(): Promise<Result<AuditCheckView>>;
  /** JSON lines of keys issued elsewhere (server/keys/import.ts), all or nothing. */
  importKeys(input: { text: string }): Promise<Result<ImportSummary>>;
  /** A JSON backup of one workspace, without secrets (server/workspaces/export.ts). */
  exportWorkspace(input: { slug: string; withoutHashes?: boolean }): Promise<Result<Record<string, unknown>>>;
}

export const COMMAND_NAMES = [
  "createPlatformKey",
  "listPlatformKeys",
  "revokePlatformKey",
  "createAdmin",
  "verifyAudit",
  "importKeys",
  "exportWorkspace",
] as const satisfies readonly (keyof OperatorCommands)[];

// The command line acts as the server itself in the audit log.
const SYSTEM: Actor = { type: "system", id: null, ip: null };

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function platformKeyView(key: PlatformKey, now: Date): PlatformKeyView {
  return {
    id: key.id,
    name: key.name,
    start: key.start,
    scopes: key.scopes,
    status: platformKeyStatus(key, now),
    createdById: key.createdById,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: iso(key.lastUsedAt),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    revokedReason: key.revokedReason,
  };
}

/**
 * The commands on a database. `dropped` is told the hashes a change made stale, so
 * a server running them drops those from its cache before answering (other
 * instances hear of it from the change's own transaction).
 */
export function operatorCommands(
  db: Db,
  dropped: (hashes: string[]) => void = () => {},
  invalidate: (message: Invalidation) => void = () => {},
): OperatorCommands {
  return {
    async createPlatformKey(input) {
      const now = new Date();
      const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) {
        return fail("validation_failed", "expiresAt: must be an ISO 8601 time, e.g. 2027-01-01T00:00:00Z", "expiresAt");
      }
      const created = await createPlatformKey(db, SYSTEM, { ...input, expiresAt }, now);
      if (!created.ok) return created;
      dropped([created.value.platformKey.hash]);
      return ok({ platformKey: platformKeyView(created.value.platformKey, now), secret: created.value.secret });
    },
    async listPlatformKeys() {
      const now = new Date();
      const rows = await db.platformKey.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      return ok(rows.map((row) => platformKeyView(row, now)));
    },
    async revokePlatformKey(input) {
      const now = new Date();
      const revoked = await revokePlatformKey(db, SYSTEM, input, now);
      if (!revoked.ok) return revoked;
      dropped([revoked.value.hash]);
      return ok(platformKeyView(revoked.value, now));
    },
    async createAdmin(input) {
      const created = await createPlatformAdmin(db, input, new Date());
      return created.ok ? ok({ id: created.value.id, email: created.value.email }) : created;
    },
    async verifyAudit() {
      const check = await verifyAuditChain(db);
      return ok(check.ok ? check : { ...check, seq: check.seq.toString() });
    },
    async importKeys(input) {
      const imported = await importKeys(db, SYSTEM, input.text, new Date());
      if (imported.ok && imported.value.imported > 0) invalidate({ kind: "imports" });
      return imported;
    },
    exportWorkspace: (input) => exportWorkspace(db, input, new Date()),
  };
}
