// The server's memory, idle and after a verify load, as `npm start` runs it.
//
//   npx tsx bench/memory.ts                                   embedded database, 1,000 and 100,000 keys
//   DATABASE_URL=postgresql://… npx tsx bench/memory.ts       the same, then on PostgreSQL (a fresh database per run)
//   MEMORY_KEYS=1000 MEMORY_SECONDS=5 MEMORY_RUNTIME=tsx …    fewer keys, shorter load, or the old tsx runtime
//
// For each run: seed the keys, start the compiled server (dist/server/index.js, built
// if needed), read its RSS after 3 s idle, drive POST /v1/keys/verify for
// MEMORY_SECONDS with every valid key in turn (so the caches fill as far as the
// load reaches), read RSS again and the peak (VmHWM). With MEMORY_RUNTIME=tsx the
// figures are the tsx process and its node child added up.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { freePort, waitFor } from "../test/helpers/processes";
import { seed } from "./seed";

const KEY_COUNTS = (process.env.MEMORY_KEYS ?? "1000,100000").split(",").map(Number);
const SECONDS = Number(process.env.MEMORY_SECONDS ?? 10);
const RUNTIME = process.env.MEMORY_RUNTIME === "tsx" ? "tsx" : "compiled";
const root = path.resolve(import.meta.dirname, "..");

/** Current and peak RSS in MB of a process and its children, from /proc. */
export function memory(pid: number): { rss: number; peak: number } {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // Gone.
  }
  let rss = 0;
  let peak = 0;
  for (const one of [pid, ...children]) {
    const status = readFileSync(`/proc/${one}/status`, "utf8");
    rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return { rss: Math.round(rss / 1024), peak: Math.round(peak / 1024) };
}

/** A fresh PostgreSQL database beside the one DATABASE_URL names; dropped by the returned function. */
export async function freshDatabase(base: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const again = new pg.Client({ connectionString: base });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/**
 * The node arguments of package.json's start script (`exec node … dist/server/index.js`),
 * so the bench measures the server with the same V8 flags `npm start` gives it.
 * BENCH_NODE_ARGS replaces the flags, to compare others.
 */
function startArgs(): string[] {
  const scripts = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).scripts as Record<string, string>;
  const args = (scripts.start ?? "").trim().split(/\s+/).slice(2);
  if (args.at(-1) !== "dist/server/index.js") throw new Error(`unexpected start script: ${scripts.start}`);
  if (process.env.BENCH_NODE_ARGS === undefined) return args;
  return [...process.env.BENCH_NODE_ARGS.split(/\s+/).filter(Boolean), "dist/server/index.js"];
}

/** Starts the server as npm start would (or under tsx) and waits for /readyz. */
export async function startKeyward(env: Record<string, string>) {
  const port = await freePort();
  const [command, args] =
    RUNTIME === "tsx"
      ? [path.join(root, "node_modules/.bin/tsx"), ["server/index.ts"]]
      : [process.execPath, startArgs()];
  let output = "";
  const child = spawn(command, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      PORT: String(port),
      // Passed through, to measure other cache bounds.
      ...(process.env.KEYWARD_KEY_CACHE_SIZE ? { KEYWARD_KEY_CACHE_SIZE: process.env.KEYWARD_KEY_CACHE_SIZE } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d: Buffer) => {
    output += d;
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${url}/readyz`)).status === 200,
    120_000,
    () => output,
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    url,
    pid: child.pid as number,
    output: () => output,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** POST /v1/keys/verify for each key in turn, for `seconds`. */
export async function verifyLoad(url: string, verifier: string, keys: string[], seconds: number, connections = 32) {
  let next = 0;
  const bodies = keys.map((key) => JSON.stringify({ key }));
  const result = await autocannon({
    url: `${url}/v1/keys/verify`,
    method: "POST",
    connections,
    duration: seconds,
    headers: { "content-type": "application/json", authorization: `Bearer ${verifier}` },
    requests: [
      {
        setupRequest: (request) => {
          next = (next + 1) % bodies.length;
          return { ...request, body: bodies[next] };
        },
      },
    ],
  });
  return result;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(kind: "embedded" | "postgres", keys: number) {
  const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-memory-"));
  const masterKey = randomBytes(32).toString("base64");
  const database =
    kind === "postgres" && process.env.DATABASE_URL
      ? await freshDatabase(process.env.DATABASE_URL, `keyward_memory_${process.pid}_${keys}`)
      : null;
  try {
    const seeded = await seed(dataDir, keys, 10, masterKey, { databaseUrl: database?.url, keep: keys });
    const server = await startKeyward({
      KEYWARD_DATA_DIR: dataDir,
      KEYWARD_MASTER_KEY: masterKey,
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    try {
      await sleep(3000);
      const idle = memory(server.pid);
      const load = await verifyLoad(server.url, seeded.live.verifier, seeded.live.valid, SECONDS);
      const loaded = memory(server.pid);
      const distinct = Math.min(load.requests.total, seeded.live.valid.length);
      return {
        kind,
        keys,
        idle: idle.rss,
        loaded: loaded.rss,
        peak: loaded.peak,
        rps: load.requests.average,
        distinct,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  if (RUNTIME === "compiled")
    spawnSync(process.execPath, ["scripts/build-if-needed.mjs"], { cwd: root, stdio: "inherit" });
  const kinds: ("embedded" | "postgres")[] = process.env.DATABASE_URL ? ["embedded", "postgres"] : ["embedded"];
  const rows = [];
  for (const kind of kinds) for (const keys of KEY_COUNTS) rows.push(await run(kind, keys));
  console.log(`\nserver RSS (${RUNTIME}), idle 3 s after start and after ${SECONDS} s of POST /v1/keys/verify`);
  console.log("database    keys      idle MB  after load MB  peak MB  load/idle  req/s   keys verified");
  for (const r of rows) {
    console.log(
      `${r.kind.padEnd(10)} ${String(r.keys).padStart(7)} ${String(r.idle).padStart(9)} ${String(r.loaded).padStart(14)} ${String(r.peak).padStart(8)} ${(r.loaded / r.idle).toFixed(2).padStart(9)}× ${r.rps.toFixed(0).padStart(6)}   ${r.distinct}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
