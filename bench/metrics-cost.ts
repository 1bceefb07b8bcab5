// npm run bench:metrics — what KEYWARD_METRICS=on costs the verification path, in one run.
// Seeds keys as bench/verify.ts does, then starts Keyward on them alternately with
// metrics off and on (off, on, off, on: the machine's drift falls on both sides),
// drives the SDK's document and GET /v1/authorize with autocannon each time, and
// prints req/s and the server's CPU time per request for each, with the on/off ratio.
// A scrape runs once a second during the "on" runs, as Prometheus would (more often).
// Each start gets its own copy of the seeded database, so no start waits for the
// previous server's lock. The server's CPU time per request is the figure to read on
// a shared machine: req/s moves with whatever else runs.
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { VerifyApiKeyDocument } from "../sdk/src/generated/graphql";
import { startServer } from "../test/helpers/processes";
import { mix, seed } from "./seed";

const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TOKEN = randomBytes(24).toString("hex");

interface Shape {
  path: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  each: { body?: string; headers?: Record<string, string> }[];
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The node process under tsx (the child of the spawned group leader). */
function serverPid(leader: number): number {
  const children = readFileSync(`/proc/${leader}/task/${leader}/children`, "utf8").trim().split(/\s+/).map(Number);
  return children.find((pid) => pid > 0) ?? leader;
}

/** Drives for `seconds`, or for exactly `amount` requests (the warm-up: every key of the mix once). */
async function drive(url: string, pid: number, shape: Shape, seconds: number, amount?: number) {
  let next = 0;
  const before = cpuMs(pid);
  const result = await autocannon({
    url: `${url}${shape.path}`,
    connections: 64,
    ...(amount ? { amount } : { duration: seconds }),
    method: shape.method,
    headers: shape.headers,
    requests: [
      {
        setupRequest: (request) => {
          next = (next + 1) % shape.each.length;
          const one = shape.each[next];
          return { ...request, body: one?.body, headers: { ...request.headers, ...one?.headers } };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    cpuUs: ((cpuMs(pid) - before) * 1000) / result.requests.total,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-bench-metrics-"));
  try {
    const masterKey = randomBytes(32).toString("base64");
    const seeded = await seed(dataDir, KEYS, 2_000, masterKey);
    const keys = mix(seeded.live);
    const shapes: Record<string, Shape> = {
      "GraphQL, SDK document": {
        path: "/graphql",
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${seeded.live.verifier}` },
        each: keys.map((key) => ({
          body: JSON.stringify({ query: VerifyApiKeyDocument.toString(), variables: { input: { key } } }),
        })),
      },
      "GET /v1/authorize": {
        path: "/v1/authorize",
        method: "GET",
        headers: {},
        each: keys.map((key) => ({ headers: { "x-api-key": key } })),
      },
    };
    const totals: Record<string, { off: number[]; on: number[]; offCpu: number[]; onCpu: number[] }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const metrics of ["off", "on"] as const) {
        const copy = path.join(dataDir, `run-${round}-${metrics}`);
        cpSync(path.join(dataDir, "pglite"), path.join(copy, "pglite"), { recursive: true });
        const server = await startServer({
          KEYWARD_DATA_DIR: copy,
          KEYWARD_MASTER_KEY: masterKey,
          NODE_ENV: "production",
          LOG_LEVEL: "warn",
          KEYWARD_METRICS: metrics,
          KEYWARD_METRICS_TOKEN: TOKEN,
        });
        const pid = serverPid(server.process.pid as number);
        const scraper =
          metrics === "on"
            ? setInterval(() => {
                void fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) =>
                  r.text(),
                );
              }, 1000)
            : undefined;
        try {
          if (process.env.BENCH_PROBE) {
            const one = shapes["GraphQL, SDK document"] as Shape;
            const answer = await fetch(`${server.url}${one.path}`, {
              method: "POST",
              headers: one.headers,
              body: one.each[0]?.body,
            });
            console.log(answer.status, (await answer.text()).slice(0, 300));
          }
          // Warm-up: JIT, and every key of the mix in the cache (both shapes use the same keys).
          const warm = shapes["GraphQL, SDK document"] as Shape;
          await drive(server.url, pid, warm, 0, warm.each.length);
          for (const [name, shape] of Object.entries(shapes)) {
            await drive(server.url, pid, shape, 2);
            const figures = await drive(server.url, pid, shape, SECONDS);
            totals[name] ??= { off: [], on: [], offCpu: [], onCpu: [] };
            totals[name][metrics].push(figures.rps);
            totals[name][metrics === "on" ? "onCpu" : "offCpu"].push(figures.cpuUs);
            console.log(
              `round ${round + 1} metrics ${metrics.padEnd(3)} ${name.padEnd(22)} ${figures.rps.toFixed(0).padStart(6)} req/s  CPU ${figures.cpuUs.toFixed(0)} µs/req  non-2xx ${figures.non2xx} of ${figures.total}`,
            );
          }
        } finally {
          clearInterval(scraper);
          server.process.kill("SIGTERM");
          await Promise.race([server.exited, new Promise((r) => setTimeout(r, 15_000))]);
          server.kill();
        }
      }
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    console.log(`\nmetrics on / off, ${KEYS} keys, 64 connections, ${ROUNDS} rounds of ${SECONDS} s`);
    for (const [name, t] of Object.entries(totals)) {
      console.log(
        `${name.padEnd(22)} req/s ${mean(t.off).toFixed(0)} → ${mean(t.on).toFixed(0)} (${((mean(t.on) / mean(t.off)) * 100).toFixed(1)}%)   CPU ${mean(t.offCpu).toFixed(0)} → ${mean(t.onCpu).toFixed(0)} µs/req`,
      );
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
