import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { type Database, type DatabaseOptions, openDatabase } from "../../server/db";
import { migrate, migrationsDir } from "../../server/migrations";

// Each test file gets a database of its own: an in-memory PGlite by default, or,
// when DATABASE_URL is set (CI's second pass), a fresh database on that server,
// dropped afterwards.

export interface TestDatabase {
  database: Database;
  url: string | undefined;
  drop(): Promise<void>;
}

export async function openTestDatabase(options: Pick<DatabaseOptions, "log"> = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const database = await openDatabase({ log: options.log, snapshot: await migratedSnapshot() });
    // A no-op on the snapshot; it still proves the snapshot matches the migrations.
    await migrate(database);
    return { database, url: undefined, drop: () => database.close() };
  }
  const name = `keyward_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), log: options.log });
  await migrate(database);
  return {
    database,
    url: url.toString(),
    drop: async () => {
      await database.close();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

// An in-memory PGlite spends seconds in initdb and the migrations before its first
// query: on a loaded machine most of a short test file. So each file starts from a
// migrated snapshot, made once per set of migrations (and PGlite build) and kept in the
// system's temporary folder, where every test process finds it.
let snapshot: Promise<Blob> | undefined;

function migratedSnapshot(): Promise<Blob> {
  snapshot ??= loadOrMakeSnapshot();
  return snapshot;
}

async function loadOrMakeSnapshot(): Promise<Blob> {
  const file = path.join(tmpdir(), `keyward-test-pglite-${snapshotKey()}.tar`);
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    // Not made yet: make it below.
  }
  const fresh = await openDatabase({});
  try {
    await migrate(fresh);
    if (!fresh.dump) throw new Error("the embedded database cannot be dumped");
    const dump = await fresh.dump();
    // Written aside and renamed: a process reading it never sees half a file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(partial, new Uint8Array(await dump.arrayBuffer()));
    renameSync(partial, file);
    return dump;
  } finally {
    await fresh.close();
  }
}

/** Changes with any migration file, and with the PGlite build that wrote the files. */
function snapshotKey(): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(migrationsDir).sort()) {
    const dir = path.join(migrationsDir, name);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) {
      hash
        .update(`${name}/${file}\0`)
        .update(readFileSync(path.join(dir, file)))
        .update("\0");
    }
  }
  const pglite = readFileSync(path.join(pgliteDir(), "package.json"));
  hash.update(pglite);
  return hash.digest("hex").slice(0, 16);
}

function pgliteDir(): string {
  // The package's exports hide its package.json from require.resolve.
  const entry = import.meta.resolve("@electric-sql/pglite");
  let dir = path.dirname(new URL(entry).pathname);
  while (!readdirSync(dir).includes("package.json")) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${entry}`);
    dir = up;
  }
  return dir;
}
