import type { Actor } from "../audit/log";
import { recordAudit, verifyAuditChain } from "../audit/log";
import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { PlatformKey } from "../generated/prisma/client";
import { createPlatformAdmin } from "../identity/accounts";
import { type ImportSummary, importKeys } from "../keys/import";
import type { Invalidation } from "../keys/invalidation";
import { type ResealSummary, resealAll } from "../keys/reseal";
import { createSecretBox, type MasterKeyring } from "../keys/secret-box";
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
  /**
   * Seal with `key` from now on and re-seal every sealed copy under it
   * (keys/reseal.ts); `previous` are keys that open what is sealed today.
   */
  rotateMasterKey(input: { key: string; previous?: string[] }): Promise<Result<ResealSummary>>;
}

export const COMMAND_NAMES = [
  "createPlatformKey",
  "listPlatformKeys",
  "revokePlatformKey",
  "createAdmin",
  "verifyAudit",
  "importKeys",
  "exportWorkspace",
  "rotateMasterKey",
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

const MASTER_KEY = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The commands on a database. `dropped` is told the hashes a change made stale, so
 * a server running them drops those from its cache before answering (other
 * instances hear of it from the change's own transaction); `invalidate` is told
 * other cache messages. `box` is the running server's keyring: rotate-master-key
 * turns it, so the server seals with the new key at once and never stops opening.
 */
export function operatorCommands(
  db: Db,
  dropped: (hashes: string[]) => void = () => {},
  invalidate: (message: Invalidation) => void = () => {},
  box: MasterKeyring | null = null,
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
    async rotateMasterKey(input) {
      const previous = input.previous ?? [];
      const bad = [input.key, ...previous].findIndex((key) => !MASTER_KEY.test(key));
      if (bad !== -1) {
        const field = bad === 0 ? "key" : "previous";
        return fail("validation_failed", `${field}: a master key is 32 bytes in base64 (44 characters)`, field);
      }
      const next = Buffer.from(input.key, "base64");
      const ring =
        box ?? createSecretBox({ current: next, previous: previous.map((key) => Buffer.from(key, "base64")) });
      ring.rotate(next);
      const summary = await resealAll(db, ring);
      const data = { keyId: summary.keyId, resealed: summary.resealed, unreadable: summary.unreadable };
      await db.$transaction((tx) =>
        recordAudit(
          tx,
          SYSTEM,
          { workspaceId: null, action: "master_key.rotate", targetType: "master_key", targetId: null, data },
          new Date(),
        ),
      );
      return ok(summary);
    },
  };
}
