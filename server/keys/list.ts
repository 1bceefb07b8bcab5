import type { Db } from "../db";
import type { ApiKey, ApiKeyType, Environment, Prisma } from "../generated/prisma/client";
import { isUuid } from "../loaders";
import type { KeyStatus } from "./status";

// Listing a workspace's keys of one environment, newest first, with a cursor of
// (createdAt, id) so keys made in the same millisecond are neither skipped nor repeated.

export interface KeyFilter {
  workspaceId: string;
  environment: Environment;
  type?: ApiKeyType | null;
  status?: KeyStatus | null;
}

export function statusWhere(status: KeyStatus, now: Date): Prisma.ApiKeyWhereInput {
  const notExpired = { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
  switch (status) {
    case "REVOKED":
      return { revokedAt: { not: null } };
    case "EXPIRED":
      return { revokedAt: null, OR: [{ expiresAt: { lte: now } }, { graceUntil: { lte: now } }] };
    case "ROLLING":
      return { revokedAt: null, graceUntil: { gt: now }, AND: [notExpired] };
    case "ACTIVE":
      return { revokedAt: null, graceUntil: null, AND: [notExpired] };
  }
}

export function filterWhere(filter: KeyFilter, now: Date): Prisma.ApiKeyWhereInput {
  return {
    workspaceId: filter.workspaceId,
    environment: filter.environment,
    ...(filter.type ? { type: filter.type } : {}),
    ...(filter.status ? statusWhere(filter.status, now) : {}),
  };
}

export interface Cursor {
  createdAt: Date;
  id: string;
}

export const encodeCursor = (key: Pick<ApiKey, "createdAt" | "id">) =>
  Buffer.from(`${key.createdAt.toISOString()}|${key.id}`).toString("base64url");

export function decodeCursor(cursor: string): Cursor | null {
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id };
}

/** Keys after (older than) `after` and before (newer than) `before`, in the asked direction. */
export function pageKeys(
  db: Db,
  where: Prisma.ApiKeyWhereInput,
  page: { after?: Cursor; before?: Cursor; limit: number; inverted: boolean },
) {
  const older = (c: Cursor): Prisma.ApiKeyWhereInput => ({
    OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }],
  });
  const newer = (c: Cursor): Prisma.ApiKeyWhereInput => ({
    OR: [{ createdAt: { gt: c.createdAt } }, { createdAt: c.createdAt, id: { gt: c.id } }],
  });
  const and = [where, ...(page.after ? [older(page.after)] : []), ...(page.before ? [newer(page.before)] : [])];
  const direction = page.inverted ? "asc" : "desc";
  return db.apiKey.findMany({
    where: { AND: and },
    orderBy: [{ createdAt: direction }, { id: direction }],
    take: page.limit,
  });
}
