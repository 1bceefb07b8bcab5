import { Prisma } from "../generated/prisma/client";
import { DEPLOYED_FIELDS } from "./snapshot";

// What a deployment would publish, compared with another: keys added (listed now,
// not before), removed (listed before, revoked since) and changed (listed in both,
// some deployed field different). Done in SQL so that a workspace with many keys is
// compared without reading its keys into the process.

type Tx = Prisma.TransactionClient;

/** A set of keys: the workspace's live keys (the next deployment), or a deployment's. */
export type KeySource = { kind: "live"; workspaceId: string } | { kind: "deployment"; deploymentId: string };

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

// Constants from DEPLOYED_FIELDS, never input: safe to splice into SQL.
const COLUMNS = DEPLOYED_FIELDS.map(snake);
const COLUMN_LIST = Prisma.raw(["hash", ...COLUMNS].map((c) => `"${c}"`).join(", "));
const ANY_DIFFERENT = Prisma.raw(COLUMNS.map((c) => `n."${c}" IS DISTINCT FROM b."${c}"`).join(" OR "));
const DIFFERENT_FIELDS = Prisma.raw(
  `array_remove(ARRAY[${DEPLOYED_FIELDS.map(
    (field) => `CASE WHEN n."${snake(field)}" IS DISTINCT FROM b."${snake(field)}" THEN '${field}' END`,
  ).join(", ")}]::text[], NULL)`,
);

/** The rows of a source, in deployment_keys' shape. */
export function sourceRows(source: KeySource): Prisma.Sql {
  return source.kind === "live"
    ? Prisma.sql`SELECT id AS key_id, ${COLUMN_LIST} FROM api_keys
                 WHERE workspace_id = ${source.workspaceId}::uuid AND revoked_at IS NULL`
    : Prisma.sql`SELECT key_id, ${COLUMN_LIST} FROM deployment_keys WHERE deployment_id = ${source.deploymentId}::uuid`;
}

const baseRows = (baseId: string | null) =>
  baseId
    ? sourceRows({ kind: "deployment", deploymentId: baseId })
    : Prisma.sql`SELECT key_id, ${COLUMN_LIST} FROM deployment_keys WHERE false`;

export interface DiffCounts {
  added: number;
  removed: number;
  changed: number;
  /** Keys in the new set. */
  keyCount: number;
}

/** How `next` differs from the deployment `baseId` (null: from nothing, every key added). */
export async function diffCounts(tx: Tx, next: KeySource, baseId: string | null): Promise<DiffCounts> {
  const [row] = await tx.$queryRaw<DiffCounts[]>`
    WITH n AS (${sourceRows(next)}), b AS (${baseRows(baseId)})
    SELECT count(*) FILTER (WHERE b.key_id IS NULL)::int AS added,
           count(*) FILTER (WHERE n.key_id IS NULL)::int AS removed,
           count(*) FILTER (WHERE n.key_id IS NOT NULL AND b.key_id IS NOT NULL AND (${ANY_DIFFERENT}))::int AS changed,
           count(n.key_id)::int AS "keyCount"
    FROM n FULL JOIN b ON b.key_id = n.key_id`;
  return row ?? { added: 0, removed: 0, changed: 0, keyCount: 0 };
}

export type ChangeKind = "ADDED" | "REMOVED" | "CHANGED";

export interface KeyChange {
  keyId: string;
  change: ChangeKind;
  /** The deployed fields that differ (every one of them for an added or removed key). */
  fields: string[];
  name: string;
  start: string;
  environment: "TEST" | "LIVE";
  type: "SECRET" | "PUBLISHABLE";
}

/** The first `limit` changed keys, added first, then changed, then removed; newest keys first within each. */
export async function listChanges(db: Tx, next: KeySource, baseId: string | null, limit: number): Promise<KeyChange[]> {
  // Keys are never deleted but with their workspace, so every key a deployment lists still has its row.
  return db.$queryRaw<KeyChange[]>`
    WITH n AS (${sourceRows(next)}), b AS (${baseRows(baseId)}),
    d AS (
      SELECT coalesce(n.key_id, b.key_id) AS key_id,
             CASE WHEN b.key_id IS NULL THEN 'ADDED' WHEN n.key_id IS NULL THEN 'REMOVED' ELSE 'CHANGED' END AS change,
             CASE WHEN b.key_id IS NULL OR n.key_id IS NULL
                  THEN ${Prisma.raw(`ARRAY[${DEPLOYED_FIELDS.map((f) => `'${f}'`).join(", ")}]::text[]`)}
                  ELSE ${DIFFERENT_FIELDS} END AS fields
      FROM n FULL JOIN b ON b.key_id = n.key_id
      WHERE b.key_id IS NULL OR n.key_id IS NULL OR (${ANY_DIFFERENT})
    )
    SELECT d.key_id::text AS "keyId", d.change, d.fields, k.name, k.start,
           k.environment::text AS environment, k.type::text AS type
    FROM d JOIN api_keys k ON k.id = d.key_id
    ORDER BY CASE d.change WHEN 'ADDED' THEN 0 WHEN 'CHANGED' THEN 1 ELSE 2 END, k.created_at DESC, k.id
    LIMIT ${limit}`;
}
