import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "../helpers/processes";

// A PostgreSQL cluster of the test's own (initdb + pg_ctl on a free port, data in a
// temporary folder), so a test may stop, start and restart it without touching the
// server other tests share. PostgreSQL refuses to run as root: as root (CI), the
// cluster belongs to the `postgres` user the Debian package creates.

const run = promisify(execFile);

/** KEYWARD_PG_BIN, or the newest Debian-packaged PostgreSQL's binaries; missing ones fail the test. */
function binaries(): string {
  if (process.env.KEYWARD_PG_BIN) return process.env.KEYWARD_PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin/initdb")))
    : [];
  const newest = versions.sort((x, y) => Number(y) - Number(x))[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${root}: install postgresql or set KEYWARD_PG_BIN`);
  return path.join(root, newest, "bin");
}

export interface Cluster {
  url: string;
  port: number;
  start(): Promise<void>;
  /** Fast shutdown: open connections are terminated, as an operator's restart does. */
  stop(): Promise<void>;
  /** Runs one statement as the superuser (a fresh connection each time). */
  sql<T extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<T[]>;
  remove(): Promise<void>;
}

async function asOwner(uid: number | null, command: string, args: string[]): Promise<string> {
  const [file, argv] = uid === null ? [command, args] : ["runuser", ["-u", "postgres", "--", command, ...args]];
  const { stdout } = await run(file, argv, { timeout: 60_000 });
  return stdout;
}

async function postgresUid(): Promise<number | null> {
  if (process.getuid?.() !== 0) return null;
  const { stdout } = await run("id", ["-u", "postgres"]);
  return Number(stdout.trim());
}

export async function startCluster(): Promise<Cluster> {
  const BIN = binaries();
  const uid = await postgresUid();
  const dir = mkdtempSync(path.join(tmpdir(), "keyward-faults-pg-"));
  if (uid !== null) chownSync(dir, uid, uid);
  const data = path.join(dir, "data");
  const port = await freePort();
  await asOwner(uid, `${BIN}/initdb`, ["-D", data, "-U", "keyward", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const ctl = (...args: string[]) => asOwner(uid, `${BIN}/pg_ctl`, ["-D", data, ...args]);
  const url = `postgresql://keyward@127.0.0.1:${port}/postgres`;
  const cluster: Cluster = {
    url,
    port,
    start: async () => {
      await ctl("-w", "-t", "60", "-o", options, "-l", path.join(dir, "log"), "start");
    },
    stop: async () => {
      await ctl("-w", "-t", "60", "-m", "fast", "stop");
    },
    sql: async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<T>(text, params)).rows;
      } finally {
        await client.end();
      }
    },
    remove: async () => {
      await ctl("-w", "-m", "immediate", "stop").catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
