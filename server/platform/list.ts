import type { Db } from "../db";
import type { Prisma } from "../generated/prisma/client";
import type { Cursor } from "../keys/list";
import type { PlatformKeyStatus } from "./status";

// Listing platform keys newest first, with the same (createdAt, id) cursor as
// workspace keys (server/keys/list.ts), so keys made in one millisecond are
// neither skipped nor repeated.

export function platformStatusWhere(status: PlatformKeyStatus | null | undefined, now: Date) {
  switch (status) {
    case "REVOKED":
      return { revokedAt: { not: null } };
    case "EXPIRED":
      return { revokedAt: null, expiresAt: { lte: now } };
    case "ACTIVE":
      return { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
    default:
      return {};
  }
}

/** Keys after (older than) `after` and before (newer than) `before`, in the asked direction. */
export function pagePlatformKeys(
  db: Db,
  where: Prisma.PlatformKeyWhereInput,
  page: { after?: Cursor; before?: Cursor; limit: number; inverted: boolean },
) {
  const older = (c: Cursor): Prisma.PlatformKeyWhereInput => ({
    OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }],
  });
  const newer = (c: Cursor): Prisma.PlatformKeyWhereInput => ({
    OR: [{ createdAt: { gt: c.createdAt } }, { createdAt: c.createdAt, id: { gt: c.id } }],
  });
  const and = [where, ...(page.after ? [older(page.after)] : []), ...(page.before ? [newer(page.before)] : [])];
  const direction = page.inverted ? "asc" : "desc";
  return db.platformKey.findMany({
    where: { AND: and },
    orderBy: [{ createdAt: direction }, { id: direction }],
    take: page.limit,
  });
}
