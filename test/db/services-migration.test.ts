import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, migrationsDir } from "../../server/migrations";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

// The services migration on a database that already has keys: service scopes may
// now name only services that exist, so every slug keys already carry becomes an
// active service of its own workspace, and nothing else does.

const SERVICES = "20261201090000_services";

let test: TestDatabase;
let dir: string;

beforeAll(async () => {
  // The migrations before this one, then rows as they stood, then this one.
  dir = mkdtempSync(path.join(tmpdir(), "keyward-services-migration-"));
  for (const name of readdirSync(migrationsDir).filter((name) => name < SERVICES)) {
    cpSync(path.join(migrationsDir, name), path.join(dir, name), { recursive: true });
  }
  test = await openTestDatabase();
}, 60_000);
afterAll(async () => {
  await test?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("backfilling services from existing scopes", () => {
  it("makes one active service per slug and workspace, ignoring other scopes and look-alikes", async () => {
    const sql = test.database.prisma;
    // openTestDatabase migrated everything: start again from an empty schema.
    await sql.$executeRawUnsafe("DROP SCHEMA public CASCADE");
    await sql.$executeRawUnsafe("CREATE SCHEMA public");
    expect((await migrate(test.database, dir)).applied).not.toContain(SERVICES);
    const a = "00000000-0000-4000-8000-00000000000a";
    const b = "00000000-0000-4000-8000-00000000000b";
    await sql.$executeRawUnsafe(
      `INSERT INTO workspaces (id, slug, name) VALUES ('${a}', 'ws-a', 'A'), ('${b}', 'ws-b', 'B')`,
    );
    const key = (n: number, ws: string, scopes: string[]) =>
      sql.$executeRawUnsafe(
        `INSERT INTO api_keys (id, workspace_id, environment, type, name, hash, start, scopes, allowed_origins, allowed_ips)
         VALUES ('00000000-0000-4000-8000-00000000010${n}', '${ws}', 'LIVE', 'SECRET', 'k', 'hash-${n}', 'sk_live_xxxx', $1, '{}', '{}')`,
        scopes,
      );
    await key(1, a, ["service.forms.read", "service.forms.write", "keys:read"]);
    await key(2, a, ["service.billing.charge", "service.Bad.read", "service.forms"]);
    await key(3, b, ["service.forms.read"]);

    await migrate(test.database, migrationsDir);
    const services = await sql.service.findMany({ orderBy: [{ workspaceId: "asc" }, { slug: "asc" }] });
    expect(services.map((s) => ({ ws: s.workspaceId, slug: s.slug, name: s.name, active: s.active }))).toEqual([
      { ws: a, slug: "billing", name: "billing", active: true },
      { ws: a, slug: "forms", name: "forms", active: true },
      { ws: b, slug: "forms", name: "forms", active: true },
    ]);
  });
});
