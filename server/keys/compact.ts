import type { ApiKey } from "../generated/prisma/client";

// A key row as the cache keeps it: the same fields, in one object literal. Prisma
// builds its rows field by field, which leaves V8 holding them as hash tables
// ("dictionary mode", ~1.2 KB of property storage per ApiKey row, measured in a
// heap snapshot: bench/README.md "A million keys"); a literal with every field
// keeps them in the object itself (~0.25 KB). Listing the fields here is checked
// by the compiler: a field added to the model fails the build until it is copied.

export function compactKey(row: ApiKey): ApiKey {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    environment: row.environment,
    type: row.type,
    name: row.name,
    hash: row.hash,
    start: row.start,
    scopes: row.scopes,
    allowedOrigins: row.allowedOrigins,
    allowedIps: row.allowedIps,
    serviceId: row.serviceId,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    revokedReason: row.revokedReason,
    revokedImmediately: row.revokedImmediately,
    createdById: row.createdById,
    createdByKeyId: row.createdByKeyId,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    rateLimitLimit: row.rateLimitLimit,
    rateLimitWindowSeconds: row.rateLimitWindowSeconds,
    metadata: row.metadata,
    rolledFromId: row.rolledFromId,
    graceUntil: row.graceUntil,
    canSignTokens: row.canSignTokens,
    sealedSecret: row.sealedSecret,
    pairedWithId: row.pairedWithId,
    importedAt: row.importedAt,
    foreignPrefix: row.foreignPrefix,
  };
}
