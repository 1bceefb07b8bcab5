// A million keys on PostgreSQL (not run in CI):
//
//   DATABASE_URL=postgresql://… npx tsx bench/scale.ts      (SCALE_KEYS=1000000 SCALE_SECONDS=10)
//
// In one run, on a fresh database beside DATABASE_URL's:
// 1. 10,000 keys, written with direct SQL (valid keys and hashes made by
//    server/keys/format.ts, 5,000 rows per INSERT … SELECT unnest); the compiled
//    server is started and the same 2,000 keys are verified, warm, for SCALE_SECONDS
//    (POST /v1/keys/verify, 32 connections): p50, p99, req/s.
// 2. The table grown to SCALE_KEYS keys; the server started again; the same warm load.
// 3. Cold keys: 1,000 keys never verified before, one request at a time (each is an
//    index lookup in PostgreSQL), against 1,000 warm ones the same way.
// 4. RSS after the warm load and after SCALE_SECONDS × 2 of load over 100,000
//    distinct keys, five times the key cache's default bound.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Db } from "../server/db";
import { openDatabase } from "../server/db";
import { migrate } from "../server/migrations";
import { freshDatabase, memory, startKeyward, verifyLoad } from "./memory";
import { insertKeys, type Seeded } from "./seed";

const TOTAL = Number(process.env.SCALE_KEYS ?? 1_000_000);
const SMALL = 10_000;
const SECONDS = Number(process.env.SCALE_SECONDS ?? 10);
const root = path.resolve(import.meta.dirname, "..");

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

/** One request at a time for each key: latency in ms as the client sees it. */
async function oneByOne(url: string, verifier: string, keys: string[]) {
  const times: number[] = [];
  for (const key of keys) {
    const started = performance.now();
    const response = await fetch(`${url}/v1/keys/verify`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${verifier}` },
      body: JSON.stringify({ key }),
    });
    const body = (await response.json()) as { code?: string };
    times.push(performance.now() - started);
    if (body.code !== "VALID") throw new Error(`expected VALID, got ${JSON.stringify(body)}`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function warm(url: string, verifier: string, keys: string[]) {
  await verifyLoad(url, verifier, keys, 3);
  const result = await verifyLoad(url, verifier, keys, SECONDS);
  if (result.non2xx || result.errors) throw new Error(`warm load: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

async function main() {
  if (!process.env.DATABASE_URL) throw new Error("bench/scale.ts needs DATABASE_URL (PostgreSQL)");
  spawnSync(process.execPath, ["scripts/build-if-needed.mjs"], { cwd: root, stdio: "inherit" });
  const database = await freshDatabase(process.env.DATABASE_URL, `keyward_scale_${process.pid}`);
  const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-scale-"));
  const masterKey = randomBytes(32).toString("base64");
  const env = { KEYWARD_DATA_DIR: dataDir, KEYWARD_MASTER_KEY: masterKey, DATABASE_URL: database.url };
  const opened = await openDatabase({ databaseUrl: database.url });
  try {
    await migrate(opened);
    const db: Db = opened.prisma;
    const user = await db.user.create({ data: { email: "scale@example.com", name: "Scale", passwordHash: "x" } });
    const workspace = await db.workspace.create({ data: { name: "scale", slug: "scale" } });
    // The keys' creator is a member, as in any real workspace (a key acts within its creator's role).
    await db.membership.create({ data: { workspaceId: workspace.id, userId: user.id, role: "OWNER" } });
    const hashes: Seeded["hashes"] = [];
    let started = performance.now();
    const small = await insertKeys(db, workspace.id, user.id, SMALL, hashes, 2000);
    console.log(`seeded ${SMALL} keys in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    let server = await startKeyward(env);
    const smallWarm = await warm(server.url, small.verifier, small.valid);
    await server.stop();

    started = performance.now();
    hashes.length = 0;
    const rest = await insertKeys(db, workspace.id, user.id, TOTAL - SMALL, hashes, 101_000);
    hashes.length = 0;
    await db.$executeRawUnsafe("ANALYZE api_keys");
    const count = await db.apiKey.count();
    console.log(`grown to ${count} keys in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    server = await startKeyward(env);
    const bigWarm = await warm(server.url, small.verifier, small.valid);
    const afterWarm = memory(server.pid);
    const warmOne = await oneByOne(server.url, small.verifier, small.valid.slice(0, 1000));
    const cold = await oneByOne(server.url, small.verifier, rest.valid.slice(0, 1000));
    const fill = await verifyLoad(server.url, small.verifier, rest.valid.slice(1000), SECONDS * 2);
    const afterFill = memory(server.pid);
    await server.stop();

    const row = (name: string, f: { rps: number; p50: number; p99: number }) =>
      `${name.padEnd(22)} ${f.rps.toFixed(0).padStart(7)} req/s   p50 ${String(f.p50).padStart(3)} ms   p99 ${String(f.p99).padStart(3)} ms`;
    console.log(`\nwarm verification, the same 2,000 keys, ${SECONDS} s, 32 connections (POST /v1/keys/verify)`);
    console.log(row(`${SMALL} keys`, smallWarm));
    console.log(row(`${count} keys`, bigWarm));
    console.log(`p99 ratio ${(bigWarm.p99 / smallWarm.p99).toFixed(2)}× (goal ≤ 1.20×)`);
    console.log(`\none request at a time, ${count} keys`);
    console.log(`warm key   p50 ${warmOne.p50.toFixed(2)} ms   p99 ${warmOne.p99.toFixed(2)} ms`);
    console.log(`cold key   p50 ${cold.p50.toFixed(2)} ms   p99 ${cold.p99.toFixed(2)} ms   (a database lookup each)`);
    console.log(
      `\nserver RSS with ${count} keys, key cache bound ${process.env.KEYWARD_KEY_CACHE_SIZE ?? "20000 (default)"}`,
    );
    console.log(`after the warm load              ${afterWarm.rss} MB`);
    console.log(
      `after ${SECONDS * 2} s over 100,000 keys     ${afterFill.rss} MB (peak ${afterFill.peak} MB; ${fill.requests.total} verifications at ${fill.requests.average.toFixed(0)} req/s; goal < 300 MB)`,
    );
  } finally {
    await opened.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
