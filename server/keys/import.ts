import { hash as digest } from "node:crypto";
import stringify from "safe-stable-stringify";
import { type Actor, recordAudit } from "../audit/log";
import { type Db, isUniqueViolation } from "../db";
import { fail, ok, type Result } from "../errors";
import type { ApiKey, Prisma } from "../generated/prisma/client";
import { isUuid } from "../loaders";
import { checkImportLine, EXPORT_FORMAT, type ImportLine, lineFailure, parseImportLine } from "./import-line";
import { announce } from "./invalidation";
import { checkServiceRefs } from "./service-refs";

// `npm run admin -- import-keys FILE`: keys issued by another system, so customers
// keep the keys they already hold. One file is one transaction: any bad line and
// nothing is imported. A line whose hash is already stored with the same settings
// is skipped, so running a file again changes nothing; stored with other settings
// it is an error. Only hashes are stored (a raw key is hashed in import-line.ts).

type Tx = Prisma.TransactionClient;

export const MAX_IMPORT_LINES = 100_000;
const CHUNK = 1000;

export interface ImportSummary {
  imported: number;
  skipped: number;
  workspaces: { slug: string; imported: number; skipped: number }[];
  /** Prefixes of keys without Keyward's checksum, now tried by hash at lookup. */
  prefixes: string[];
}

interface Workspace {
  id: string;
  slug: string;
}

// The settings a re-run must find unchanged, in the order a conflict names them.
function differing(row: ApiKey, line: ImportLine, workspaceId: string, serviceId: string | null): string | null {
  const same: [string, boolean][] = [
    ["workspace", row.workspaceId === workspaceId],
    ["environment", row.environment === line.environment],
    ["type", row.type === line.type],
    ["name", row.name === line.name],
    ["start", row.start === line.start],
    ["scopes", JSON.stringify(row.scopes) === JSON.stringify(line.scopes)],
    ["allowedOrigins", JSON.stringify(row.allowedOrigins) === JSON.stringify(line.allowedOrigins)],
    ["allowedIps", JSON.stringify(row.allowedIps) === JSON.stringify(line.allowedIps)],
    ["service", row.serviceId === serviceId],
    ["expiresAt", (row.expiresAt?.getTime() ?? null) === (line.expiresAt?.getTime() ?? null)],
    ["rateLimit", row.rateLimitLimit === (line.rateLimit?.limit ?? null)],
    // jsonb keeps keys in its own order: compared canonically.
    ["metadata", stringify(row.metadata) === stringify(line.metadata)],
    ["revoked", row.revokedAt === null],
  ];
  return same.find(([, equal]) => !equal)?.[0] ?? null;
}

/** A workspace export's keys, or null when the text is not one export document. */
function exportedKeys(text: string): unknown[] | null {
  if (!text.trimStart().startsWith("{")) return null;
  try {
    const document = JSON.parse(text) as { format?: unknown; keys?: unknown };
    return document.format === EXPORT_FORMAT && Array.isArray(document.keys) ? document.keys : null;
  } catch {
    // Several lines of JSON are not one JSON document.
    return null;
  }
}

/**
 * Every line (or every key of an export-workspace file) checked on its own; the
 * first bad one fails the file.
 */
export function parseImportFile(text: string, now: Date): Result<ImportLine[]> {
  const lines: ImportLine[] = [];
  const exported = exportedKeys(text);
  const entries = exported ?? text.split(/\r?\n/);
  for (const [index, entry] of entries.entries()) {
    if (typeof entry === "string" && entry.trim() === "") continue;
    if (lines.length === MAX_IMPORT_LINES) {
      return fail("validation_failed", `file: at most ${MAX_IMPORT_LINES} keys per file; split it`, "file");
    }
    const parsed = exported
      ? checkImportLine(entry, `key ${index + 1}`, now)
      : parseImportLine(entry as string, `line ${index + 1}`, now);
    if (!parsed.ok) return parsed;
    lines.push(parsed.value);
  }
  if (lines.length === 0) return fail("validation_failed", "file: holds no keys", "file");
  return ok(lines);
}

async function resolveWorkspaces(tx: Tx, lines: ImportLine[]): Promise<Result<Map<string, Workspace>>> {
  const refs = [...new Set(lines.map((line) => line.workspace))];
  const rows = await tx.workspace.findMany({
    where: { OR: [{ slug: { in: refs } }, { id: { in: refs.filter(isUuid) } }] },
    select: { id: true, slug: true },
  });
  const byRef = new Map<string, Workspace>();
  for (const row of rows) byRef.set(row.slug, row).set(row.id, row);
  const missing = lines.find((line) => !byRef.has(line.workspace));
  if (missing) {
    return lineFailure(missing.at, { code: "not_found", message: "no such workspace", field: "workspace" });
  }
  return ok(byRef);
}

/** The service each line is bound to, checked by the rules every key obeys (memoised: lines repeat). */
async function resolveServices(tx: Tx, lines: ImportLine[], workspaces: Map<string, Workspace>) {
  const ids = new Map<string, string>();
  for (const row of await tx.service.findMany({
    where: { workspaceId: { in: [...workspaces.values()].map((w) => w.id) } },
  })) {
    ids.set(`${row.workspaceId}/${row.slug}`, row.id);
  }
  const checked = new Map<string, Awaited<ReturnType<typeof checkServiceRefs>>>();
  const bound: (string | null)[] = [];
  for (const line of lines) {
    const workspaceId = (workspaces.get(line.workspace) as Workspace).id;
    const serviceId = line.service === null ? null : (ids.get(`${workspaceId}/${line.service}`) ?? null);
    if (line.service !== null && serviceId === null) {
      return lineFailure(line.at, { code: "not_found", message: "no such service", field: "service" });
    }
    const memo = JSON.stringify([workspaceId, line.type, serviceId, line.scopes]);
    if (!checked.has(memo)) {
      checked.set(memo, await checkServiceRefs(tx, workspaceId, { type: line.type, scopes: line.scopes, serviceId }));
    }
    const refused = checked.get(memo);
    if (refused) return lineFailure(line.at, refused);
    bound.push(serviceId);
  }
  return ok(bound);
}

/** One api_keys row as import writes it (column names), sent as JSON. */
interface ImportRow {
  workspace_id: string;
  environment: string;
  type: string;
  name: string;
  hash: string;
  start: string;
  scopes: string[];
  allowed_origins: string[];
  allowed_ips: string[];
  service_id: string | null;
  expires_at: string | null;
  rate_limit_limit: number | null;
  rate_limit_window_seconds: number | null;
  metadata: Record<string, unknown>;
  foreign_prefix: string | null;
}

// One statement per chunk with the rows as one JSON parameter: Prisma's createMany
// took 16 s for 10,000 keys, this takes well under one.
async function insertRows(tx: Tx, rows: ImportRow[], now: Date): Promise<void> {
  const texts = (column: string) => `ARRAY(SELECT jsonb_array_elements_text(r.${column}))`;
  await tx.$executeRawUnsafe(
    `INSERT INTO api_keys (id, workspace_id, environment, type, name, hash, start, scopes, allowed_origins,
       allowed_ips, service_id, expires_at, rate_limit_limit, rate_limit_window_seconds, metadata, foreign_prefix,
       imported_at, created_at)
     SELECT gen_random_uuid(), r.workspace_id, r.environment, r.type, r.name, r.hash, r.start, ${texts("scopes")},
       ${texts("allowed_origins")}, ${texts("allowed_ips")}, r.service_id, r.expires_at, r.rate_limit_limit,
       r.rate_limit_window_seconds, r.metadata, r.foreign_prefix, $2::timestamptz, $2::timestamptz
     FROM jsonb_to_recordset($1::jsonb) AS r(workspace_id uuid, environment "Environment", type "ApiKeyType",
       name text, hash text, start text, scopes jsonb, allowed_origins jsonb, allowed_ips jsonb, service_id uuid,
       expires_at timestamptz, rate_limit_limit int, rate_limit_window_seconds int, metadata jsonb,
       foreign_prefix text)`,
    JSON.stringify(rows),
    now.toISOString(),
  );
}

async function existingByHash(tx: Tx, hashes: string[]): Promise<Map<string, ApiKey>> {
  const found = new Map<string, ApiKey>();
  for (let i = 0; i < hashes.length; i += CHUNK) {
    const rows = await tx.apiKey.findMany({ where: { hash: { in: hashes.slice(i, i + CHUNK) } } });
    for (const row of rows) found.set(row.hash, row);
  }
  return found;
}

export async function importKeys(db: Db, actor: Actor, text: string, now: Date): Promise<Result<ImportSummary>> {
  const parsed = parseImportFile(text, now);
  if (!parsed.ok) return parsed;
  const lines = parsed.value;
  const source = digest("sha256", text, "hex");
  const run = async (tx: Tx): Promise<Result<ImportSummary>> => {
    const workspaces = await resolveWorkspaces(tx, lines);
    if (!workspaces.ok) return workspaces;
    const services = await resolveServices(tx, lines, workspaces.value);
    if (!services.ok) return services;
    const stored = await existingByHash(tx, [...new Set(lines.map((line) => line.hash))]);
    const rows: ImportRow[] = [];
    const seen = new Map<string, ImportLine>();
    const counts = new Map<string, { slug: string; imported: number; skipped: number }>();
    for (const [index, line] of lines.entries()) {
      const workspace = workspaces.value.get(line.workspace) as Workspace;
      const serviceId = services.value[index] ?? null;
      const count = counts.get(workspace.id) ?? { slug: workspace.slug, imported: 0, skipped: 0 };
      counts.set(workspace.id, count);
      const earlier = seen.get(line.hash);
      if (earlier) {
        // The same key twice in one file: fine when both lines say the same.
        const { at: _a, ...a } = earlier;
        const { at: _b, ...b } = line;
        if (stringify(a) !== stringify(b)) {
          const message = `the same key is at ${earlier.at} with other settings`;
          return lineFailure(line.at, { code: "validation_failed", message, field: "hash" });
        }
        count.skipped++;
        continue;
      }
      seen.set(line.hash, line);
      const row = stored.get(line.hash);
      if (row) {
        const field = differing(row, line, workspace.id, serviceId);
        if (field) {
          const message = `a key with this hash is already stored with another ${field}; change it there or drop this line`;
          return lineFailure(line.at, { code: "validation_failed", message, field });
        }
        count.skipped++;
        continue;
      }
      count.imported++;
      rows.push({
        workspace_id: workspace.id,
        environment: line.environment,
        type: line.type,
        name: line.name,
        hash: line.hash,
        start: line.start,
        scopes: line.scopes,
        allowed_origins: line.allowedOrigins,
        allowed_ips: line.allowedIps,
        service_id: serviceId,
        expires_at: line.expiresAt?.toISOString() ?? null,
        rate_limit_limit: line.rateLimit?.limit ?? null,
        rate_limit_window_seconds: line.rateLimit?.windowSeconds ?? null,
        metadata: line.metadata,
        foreign_prefix: line.foreign ? line.prefix : null,
      });
    }
    const prefixes = [...new Set(lines.filter((line) => line.foreign).map((line) => line.prefix))].sort();
    const summary: ImportSummary = {
      imported: rows.length,
      skipped: lines.length - rows.length,
      workspaces: [...counts.values()],
      prefixes,
    };
    if (rows.length === 0) return ok(summary);
    for (let i = 0; i < rows.length; i += CHUNK) await insertRows(tx, rows.slice(i, i + CHUNK), now);
    await tx.importedKeyPrefix.createMany({ data: prefixes.map((prefix) => ({ prefix })), skipDuplicates: true });
    for (const [workspaceId, count] of counts) {
      if (count.imported === 0) continue;
      const data = { imported: count.imported, skipped: count.skipped, sourceSha256: source, prefixes };
      await recordAudit(
        tx,
        actor,
        { workspaceId, action: "api_key.import", targetType: "workspace", targetId: workspaceId, data },
        now,
      );
    }
    // Every instance forgets cached misses (an imported hash may be one) and re-reads the prefixes.
    await announce(tx, { kind: "imports" });
    return ok(summary);
  };
  // A failed line rolls back whatever the transaction wrote before it.
  class Refused extends Error {
    constructor(readonly result: Result<ImportSummary>) {
      super("import refused");
    }
  }
  try {
    return await db.$transaction(
      async (tx) => {
        const result = await run(tx);
        if (!result.ok) throw new Refused(result);
        return result;
      },
      { timeout: 10 * 60_000, maxWait: 60_000 },
    );
  } catch (error) {
    if (error instanceof Refused) return error.result;
    // A key made or imported by someone else between our check and our insert.
    if (isUniqueViolation(error)) {
      return fail(
        "validation_failed",
        "file: a key in it was stored meanwhile by another change; run it again",
        "file",
      );
    }
    throw error;
  }
}
