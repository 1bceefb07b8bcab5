import type { Db } from "../db";
import { fail, ok, type Result } from "../errors";
import type { ApiKey } from "../generated/prisma/client";
import { keyPrefix } from "../keys/format";
import { EXPORT_FORMAT } from "../keys/import-line";
import { keyStatus } from "../keys/status";

// `npm run admin -- export-workspace SLUG`: a JSON backup of one workspace. No
// secret leaves: no password hashes, session tokens, webhook secrets or sealed
// copies. Keys that still work are written exactly as import-keys reads them
// (server/keys/import-line.ts), with their SHA-256, so the backup restores them:
// a hash does not give the key back (192 random bits for Keyward's own keys), but
// it is what a lookup matches, so the file is written 0600 and is to be kept like
// a secret; `withoutHashes` leaves them out (a record that cannot restore keys).
// Revoked and expired keys are listed for the record only.

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A working key as one import-keys line. */
function importLine(key: ApiKey, slug: string, services: Map<string, string>, now: Date, withHash: boolean) {
  // A rolled key works until its grace ends: that is its expiry in a new home.
  const ends = [key.expiresAt, key.graceUntil].filter((date): date is Date => date !== null);
  const expiresAt = ends.length ? new Date(Math.min(...ends.map((date) => date.getTime()))) : null;
  return {
    ...(withHash ? { hash: key.hash } : {}),
    prefix: key.foreignPrefix ?? keyPrefix(key.type, key.environment),
    format: key.foreignPrefix ? "foreign" : "keyward",
    start: key.start,
    workspace: slug,
    environment: key.environment.toLowerCase(),
    type: key.type.toLowerCase(),
    name: key.name,
    scopes: key.scopes,
    allowedOrigins: key.allowedOrigins,
    allowedIps: key.allowedIps,
    service: key.serviceId ? (services.get(key.serviceId) ?? null) : null,
    expiresAt: iso(expiresAt && expiresAt > now ? expiresAt : null),
    rateLimit:
      key.rateLimitLimit && key.rateLimitWindowSeconds
        ? { limit: key.rateLimitLimit, windowSeconds: key.rateLimitWindowSeconds }
        : null,
    metadata: key.metadata,
  };
}

export async function exportWorkspace(
  db: Db,
  input: { slug: string; withoutHashes?: boolean },
  now: Date,
): Promise<Result<Record<string, unknown>>> {
  const workspace = await db.workspace.findUnique({ where: { slug: input.slug } });
  if (!workspace) return fail("not_found", "workspace: no such workspace", "workspace");
  const where = { workspaceId: workspace.id };
  const [memberships, services, audiences, endpoints, keys, lastEvent, head] = await Promise.all([
    db.membership.findMany({ where, include: { user: true }, orderBy: { createdAt: "asc" } }),
    db.service.findMany({ where, orderBy: { createdAt: "asc" } }),
    db.audience.findMany({ where, orderBy: { createdAt: "asc" } }),
    db.webhookEndpoint.findMany({ where, orderBy: { createdAt: "asc" } }),
    db.apiKey.findMany({ where, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
    db.auditEvent.findFirst({ where, orderBy: { seq: "desc" } }),
    db.auditEvent.findFirst({ orderBy: { seq: "desc" } }),
  ]);
  const serviceSlugs = new Map(services.map((service) => [service.id, service.slug]));
  const audienceNames = new Map(audiences.map((audience) => [audience.id, audience.name]));
  const working = keys.filter((key) => ["ACTIVE", "ROLLING"].includes(keyStatus(key, now)));
  const retired = keys.filter((key) => !working.includes(key));
  const chainPoint = (event: typeof head) =>
    event && { seq: event.seq.toString(), id: event.id, hash: event.hash, createdAt: iso(event.createdAt) };
  return ok({
    format: EXPORT_FORMAT,
    version: 1,
    exportedAt: now.toISOString(),
    workspace: {
      id: workspace.id,
      slug: workspace.slug,
      name: workspace.name,
      status: workspace.status,
      keysEnabled: workspace.keysEnabled,
      requireDeploy: workspace.requireDeploy,
      requireAudienceToken: workspace.requireAudienceToken,
      leakPolicy: workspace.leakPolicy,
      createdAt: iso(workspace.createdAt),
    },
    members: memberships.map((m) => ({
      userId: m.userId,
      email: m.user.email,
      name: m.user.name,
      role: m.role,
      since: iso(m.createdAt),
    })),
    services: services.map((s) => ({
      id: s.id,
      slug: s.slug,
      name: s.name,
      active: s.active,
      createdAt: iso(s.createdAt),
    })),
    audiences: audiences.map((a) => ({
      id: a.id,
      name: a.name,
      parent: a.parentId ? (audienceNames.get(a.parentId) ?? null) : null,
      createdAt: iso(a.createdAt),
    })),
    webhookEndpoints: endpoints.map((e) => ({
      id: e.id,
      environment: e.environment,
      url: e.url,
      events: e.events,
      description: e.description,
      enabled: e.enabled,
      createdAt: iso(e.createdAt),
    })),
    keys: working.map((key) => importLine(key, workspace.slug, serviceSlugs, now, !input.withoutHashes)),
    // Signing keys keep their value only sealed under the master key; a backup
    // carries no secret, so restored keys verify but sign no audience tokens.
    keysNotRestored: working
      .filter((key) => key.canSignTokens)
      .map((key) => ({ id: key.id, start: key.start, reason: "signs audience tokens: make a new signing key" })),
    retiredKeys: retired.map((key) => ({
      id: key.id,
      start: key.start,
      name: key.name,
      environment: key.environment,
      type: key.type,
      status: keyStatus(key, now),
      revokedAt: iso(key.revokedAt),
      revokedReason: key.revokedReason,
      expiresAt: iso(key.expiresAt ?? key.graceUntil),
    })),
    audit: { workspaceLast: chainPoint(lastEvent), chainHead: chainPoint(head) },
  });
}
