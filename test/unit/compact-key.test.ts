import { describe, expect, it } from "vitest";
import type { ApiKey } from "../../server/generated/prisma/client";
import { compactKey } from "../../server/keys/compact";

// Every field of the cached copy must be the row's own: a field copied from another
// of the same type (revokedAt from expiresAt, say) type-checks but would let a
// revoked key verify from the cache.
describe("compactKey", () => {
  const day = (n: number) => new Date(Date.UTC(2026, 0, n));
  const row: ApiKey = {
    id: "id",
    workspaceId: "workspaceId",
    environment: "LIVE",
    type: "PUBLISHABLE",
    name: "name",
    hash: "hash",
    start: "start",
    scopes: ["scopes"],
    allowedOrigins: ["allowedOrigins"],
    allowedIps: ["allowedIps"],
    serviceId: "serviceId",
    expiresAt: day(1),
    revokedAt: day(2),
    revokedReason: "revokedReason",
    revokedImmediately: true,
    createdById: "createdById",
    createdByKeyId: "createdByKeyId",
    createdAt: day(3),
    lastUsedAt: day(4),
    rateLimitLimit: 5,
    rateLimitWindowSeconds: 6,
    metadata: { metadata: true },
    rolledFromId: "rolledFromId",
    graceUntil: day(7),
    canSignTokens: false,
    sealedSecret: "sealedSecret",
    pairedWithId: "pairedWithId",
    importedAt: day(8),
    foreignPrefix: "foreignPrefix",
  };

  it("a copied field from the wrong source (a revoked key cached as unrevoked) is caught", () => {
    const copy = compactKey(row);
    expect(copy).not.toBe(row);
    expect(copy).toStrictEqual(row);
    // Same field order, so anything serialising a key reads the same.
    expect(Object.keys(copy)).toEqual(Object.keys(row));
  });
});
