import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { acquireLock, LockHeld } from "./data-lock";
import { PrismaClient } from "./generated/prisma/client";

export type Db = PrismaClient;

/** Prisma's unique-constraint error: a race lost to a concurrent insert, reported as a clear failure. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: string }).code === "P2002";
}

/** Plain SQL access, for migrations and the few statements Prisma cannot express. */
export interface SqlRunner {
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(fn: (tx: Omit<SqlRunner, "transaction">) => Promise<T>): Promise<T>;
}

export interface Database {
  kind: "pglite" | "postgres";
  prisma: PrismaClient;
  /** Runs fn with SQL access that no other migrator holds at the same time. */
  withMigrationLock<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** The connection pool's counts (PostgreSQL only; the embedded database is one in-process connection). */
  pool?: { totalCount: number; idleCount: number; waitingCount: number };
  /** The embedded database's files as one tar archive, to start another from (`snapshot`). */
  dump?: () => Promise<Blob>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** Directory for the embedded database; undefined keeps it in memory (tests). */
  dataDir?: string | undefined;
  /**
   * In memory only: start from a `dump()` of another embedded database instead of an
   * empty one. PostgreSQL's initdb is most of an in-memory start (seconds), so tests
   * open each file's database from one migrated snapshot.
   */
  snapshot?: Blob | undefined;
  /** Passed to Prisma, e.g. to count queries in tests. */
  log?: ConstructorParameters<typeof PrismaClient>[0]["log"];
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openPglite(options);
}

// PostgreSQL's shared buffers live in PGlite's WebAssembly memory, which never
// shrinks, and PostgreSQL touches all of them at start: the default 128 MB is 128 MB
// of RSS before the first query. Verification reads keys from the key cache, and
// what it does read from here is a single index lookup; the files' pages stay in
// the OS page cache either way. 16 MB took about 120 MB off the server's RSS
// (bench/README.md, "Memory").
const PGLITE_SETTINGS = ["-c", "shared_buffers=16MB"];

async function openPglite(options: DatabaseOptions): Promise<Database> {
  let dir: string | undefined;
  let unlock = () => {};
  if (options.dataDir) {
    dir = path.join(options.dataDir, "pglite");
    mkdirSync(dir, { recursive: true });
    // PGlite is PostgreSQL in this process: a second process opening the same files
    // (say `npm run admin` beside `npm start`) would corrupt them. The lock dies with
    // its process (server/data-lock.ts), so a restart after a crash is not refused.
    try {
      unlock = await acquireLock(`${dir}.lock`);
    } catch (error) {
      if (!(error instanceof LockHeld)) throw error;
      const pid = error.owner ? ` (pid ${error.owner.pid})` : "";
      throw new Error(
        `the embedded database in ${dir} is in use by another Keyward process${pid}; a server that is still starting takes admin commands once it answers, otherwise stop that process first, or use DATABASE_URL`,
      );
    }
  }
  const snapshot = dir === undefined && options.snapshot ? { loadDataDir: options.snapshot } : {};
  // One options object: PGlite reads a second argument only after a data directory
  // string, so with none (in memory) the settings and the snapshot would be dropped.
  const client = new PGlite({
    ...(dir === undefined ? {} : { dataDir: dir }),
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
    ...snapshot,
  });
  try {
    await client.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(client), log: options.log ?? [] });
  const runner: SqlRunner = {
    exec: async (sql) => {
      await client.exec(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await client.query<T>(sql, params)).rows,
    transaction: (fn) =>
      client.transaction((tx) =>
        fn({
          exec: async (sql) => {
            await tx.exec(sql);
          },
          query: async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows,
        }),
      ),
  };
  return {
    kind: "pglite",
    prisma,
    // PGlite is one connection in this process: nobody else can migrate it concurrently.
    withMigrationLock: (fn) => fn(runner),
    ping: async () => {
      try {
        await client.query("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    dump: () => client.dumpDataDir("none"),
    close: async () => {
      await prisma.$disconnect();
      await client.close();
      unlock();
    },
  };
}

// Any constant works; it only has to be the same for every Keyward instance.
const MIGRATION_LOCK_KEY = 72_657_919;

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool), log: options.log ?? [] });
  return {
    kind: "postgres",
    prisma,
    pool,
    withMigrationLock: async (fn) => {
      const client = await pool.connect();
      const base = {
        exec: async (sql: string) => {
          await client.query(sql);
        },
        query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params as unknown[])).rows as T[],
      };
      const runner: SqlRunner = {
        ...base,
        transaction: async (body) => {
          await client.query("BEGIN");
          try {
            const result = await body(base);
            await client.query("COMMIT");
            return result;
          } catch (error) {
            await client.query("ROLLBACK");
            throw error;
          }
        },
      };
      try {
        // Several instances may start at once against one database: one migrates, the others wait.
        await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
        try {
          return await fn(runner);
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
    },
    ping: async () => {
      try {
        await pool.query("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
