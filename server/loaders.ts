import DataLoader from "dataloader";
import type { Db } from "./db";
import type { ApiKey, Membership, User, Workspace } from "./generated/prisma/client";

// Per-request batching: every `user`, `workspace` or membership a response needs is
// fetched with one query per kind, however many objects the response holds.

export interface Loaders {
  user: DataLoader<string, User | null>;
  workspace: DataLoader<string, Workspace | null>;
  workspaceBySlug: DataLoader<string, Workspace | null>;
  /** The caller's own membership in a workspace, keyed by `${userId}:${workspaceId}`. */
  membership: DataLoader<string, Membership | null>;
  apiKey: DataLoader<string, ApiKey | null>;
}

function byKey<T, K>(keys: readonly K[], rows: T[], keyOf: (row: T) => K): (T | null)[] {
  const map = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => map.get(key) ?? null);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids come from callers; a malformed one cannot exist, and must not reach a uuid column. */
export const isUuid = (value: string) => UUID.test(value);

export function createLoaders(db: Db): Loaders {
  return {
    user: new DataLoader(async (ids) =>
      byKey(ids, await db.user.findMany({ where: { id: { in: ids.filter(isUuid) } } }), (u) => u.id),
    ),
    workspace: new DataLoader(async (ids) =>
      byKey(ids, await db.workspace.findMany({ where: { id: { in: ids.filter(isUuid) } } }), (w) => w.id),
    ),
    workspaceBySlug: new DataLoader(async (slugs) =>
      byKey(slugs, await db.workspace.findMany({ where: { slug: { in: [...slugs] } } }), (w) => w.slug),
    ),
    membership: new DataLoader(async (keys) => {
      const pairs = keys.map((key) => key.split(":") as [string, string]);
      const valid = pairs.filter(([userId, workspaceId]) => isUuid(userId) && isUuid(workspaceId));
      const rows = valid.length
        ? await db.membership.findMany({
            where: { OR: valid.map(([userId, workspaceId]) => ({ userId, workspaceId })) },
          })
        : [];
      return byKey(keys, rows, (m) => `${m.userId}:${m.workspaceId}`);
    }),
    apiKey: new DataLoader(async (ids) =>
      byKey(ids, await db.apiKey.findMany({ where: { id: { in: ids.filter(isUuid) } } }), (k) => k.id),
    ),
  };
}
