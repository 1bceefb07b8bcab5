import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Umzug, type UmzugStorage } from "umzug";
import type { Database, SqlRunner } from "./db";

// Prisma's `migrate deploy` needs a schema-engine binary these machines cannot
// download, so Umzug applies the same prisma/migrations/<name>/migration.sql files
// and records them in Prisma's own `_prisma_migrations` table. Where the binary
// exists, `prisma migrate` sees the same history.

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface Applied {
  migration_name: string;
  checksum: string;
}

const checksum = (sql: string) => createHash("sha256").update(sql).digest("hex");

function readMigrations(dir: string) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({ name, sql: readFileSync(path.join(dir, name, "migration.sql"), "utf8") }));
}

class PrismaTableStorage implements UmzugStorage {
  constructor(private readonly sql: SqlRunner) {}

  async executed(): Promise<string[]> {
    const rows = await this.sql.query<Applied>(
      `SELECT migration_name, checksum FROM "_prisma_migrations"
       WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
    );
    return rows.map((row) => row.migration_name);
  }

  // Recorded inside the migration's own transaction (see `up` below), so a crash
  // can never leave a migration applied but unrecorded.
  async logMigration(): Promise<void> {}

  async unlogMigration({ name }: { name: string }): Promise<void> {
    await this.sql.query(`DELETE FROM "_prisma_migrations" WHERE migration_name = $1`, [name]);
  }
}

export interface MigrateResult {
  applied: string[];
}

export async function migrate(db: Database, dir = migrationsDir): Promise<MigrateResult> {
  return db.withMigrationLock(async (sql) => {
    await sql.exec(CREATE_TABLE);
    const files = readMigrations(dir);
    await refuseEditedMigrations(sql, files);
    const umzug = new Umzug({
      migrations: files.map((file) => ({
        name: file.name,
        up: () =>
          sql.transaction(async (tx) => {
            await tx.exec(file.sql);
            await tx.query(
              `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
               VALUES (gen_random_uuid()::text, $1, now(), $2, 1)`,
              [checksum(file.sql), file.name],
            );
          }),
      })),
      storage: new PrismaTableStorage(sql),
      logger: undefined,
    });
    const applied = await umzug.up();
    return { applied: applied.map((m) => m.name) };
  });
}

async function refuseEditedMigrations(sql: SqlRunner, files: { name: string; sql: string }[]) {
  const applied = await sql.query<Applied>(
    `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  for (const row of applied) {
    const file = files.find((f) => f.name === row.migration_name);
    if (file && checksum(file.sql) !== row.checksum) {
      throw new Error(`migration ${row.migration_name} was edited after it was applied; add a new migration instead`);
    }
  }
}
