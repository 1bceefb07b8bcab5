// npm run bench:verify — verifyApiKey over HTTP against a floor server, in one run.
// Seeds 100,000 keys into a fresh embedded database, starts Keyward on it (the
// default, as `npm start` does), drives both servers with autocannon (64
// connections; 80% valid, 10% revoked, 10% malformed keys) and prints req/s,
// p50, p99, RSS and the ratio to the floor — for the SDK's GraphQL document, an
// ad-hoc one, POST /v1/keys/verify, the forward-auth GET /v1/authorize, a publishable
// key sent with an audience token (the SDK's document, HS256 checked), and the SDK's
// document for the keys of a workspace that requires deploys (a fifth as many keys,
// answered from its latest deployment: bench/seed.ts).
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { VerifyApiKeyDocument } from "../sdk/src/generated/graphql";
import { freePort, startServer } from "../test/helpers/processes";
import { mix, type Seeded, seed, WIDGET_ORIGIN } from "./seed";

const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const GATED_KEYS = Math.max(2_000, Math.floor(KEYS / 5));
const CONNECTIONS = 64;
// Latency without a 64-deep queue: the same mix with fewer callers in flight.
const FEW_CONNECTIONS = 16;
// The SDK's own document, what its clients send.
const QUERY = VerifyApiKeyDocument.toString();
// Documents other clients send: one written by hand, and Apollo Client's style
// (its own operation name, __typename on every object). The server knows none of
// them in advance: each is compiled on first use, like the SDK's.
const AD_HOC =
  "mutation V($input: VerifyApiKeyInput!) { verifyApiKey(input: $input) { valid code keyId ratelimit { remaining } } }";
const APOLLO =
  "mutation CheckCustomerKey($input: VerifyApiKeyInput!) { verifyApiKey(input: $input) { __typename valid code keyId scopes ratelimit { __typename limit remaining resetAt } } }";

/** One request per key, as autocannon's setupRequest fills it in. */
interface Shape {
  path: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  each: { body?: string; headers?: Record<string, string> }[];
}

const graphql = (keys: string[], query: string, token: string): Shape => ({
  path: "/graphql",
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  each: keys.map((key) => ({ body: JSON.stringify({ query, variables: { input: { key } } }) })),
});

const restVerify = (keys: string[], token: string): Shape => ({
  path: "/v1/keys/verify",
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  each: keys.map((key) => ({ body: JSON.stringify({ key }) })),
});

// A chat widget's publishable key with its backend's token, verified by the SDK's document.
const withTokens = ({ publishable, tokens }: Seeded["audience"], token: string): Shape => ({
  path: "/graphql",
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  each: tokens.map((signed) => ({
    body: JSON.stringify({
      query: QUERY,
      variables: { input: { key: publishable, token: signed, origin: WIDGET_ORIGIN } },
    }),
  })),
});

// What a gateway sends: the customer's key, no verifier.
const authorize = (keys: string[]): Shape => ({
  path: "/v1/authorize",
  method: "GET",
  headers: {},
  each: keys.map((key) => ({ headers: { "x-api-key": key } })),
});

/** The audience path is only a figure if its answers are what it claims: VALID, with the audience's path. */
async function expectAudience(url: string, shape: Shape): Promise<void> {
  for (const one of shape.each.slice(0, 4)) {
    const response = await fetch(`${url}${shape.path}`, { method: "POST", headers: shape.headers, body: one.body });
    const { data } = (await response.json()) as { data?: { verifyApiKey: { code: string; audiencePath: string[] } } };
    if (data?.verifyApiKey.code !== "VALID" || !data.verifyApiKey.audiencePath.includes("enterprise")) {
      throw new Error(`the audience path answers ${JSON.stringify(data)}`);
    }
  }
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** The server process's CPU time (user + system) per answered request, when its pid is known. */
  cpuUs: number;
}

/** User + system CPU time of a process so far, in ms (from /proc; 100 ticks per second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Target {
  url: string;
  /** The process answering, for its CPU time. */
  pid: number | undefined;
}

async function drive(
  target: Target,
  shape: Shape,
  { seconds, connections = CONNECTIONS }: { seconds: number; connections?: number },
): Promise<Figures> {
  let next = 0;
  const cpuBefore = target.pid ? cpuMs(target.pid) : Number.NaN;
  const result = await autocannon({
    url: `${target.url}${shape.path}`,
    connections,
    duration: seconds,
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
  const cpuAfter = target.pid ? cpuMs(target.pid) : Number.NaN;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    cpuUs: ((cpuAfter - cpuBefore) * 1000) / result.requests.total,
  };
}

function rssMb(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

/** The node process under tsx (the child of the spawned group leader). */
function serverPid(leader: number | undefined): number | undefined {
  if (!leader) return undefined;
  try {
    const children = readFileSync(`/proc/${leader}/task/${leader}/children`, "utf8").trim().split(/\s+/).map(Number);
    return children.find((pid) => pid > 0) ?? leader;
  } catch {
    return leader;
  }
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-bench-"));
  try {
    const masterKey = randomBytes(32).toString("base64");
    const seeded = await seed(dataDir, KEYS, GATED_KEYS, masterKey);
    const keys = mix(seeded.live);
    const payloads = graphql(keys, QUERY, seeded.live.verifier);
    const adHoc = graphql(keys, AD_HOC, seeded.live.verifier);
    const apollo = graphql(keys, APOLLO, seeded.live.verifier);
    const rest = restVerify(keys, seeded.live.verifier);
    const gateway = authorize(keys);
    const audienced = withTokens(seeded.audience, seeded.live.verifier);
    // The gated workspace's own verifier: its credential is read from the deployment too.
    const snapshot = graphql(mix(seeded.gated), QUERY, seeded.gated.verifier);

    const hashesFile = path.join(dataDir, "hashes.json");
    writeFileSync(hashesFile, JSON.stringify(seeded.hashes));
    const floorPort = await freePort();
    const floor = fork(path.join(import.meta.dirname, "floor-server.ts"), [hashesFile, String(floorPort)], {
      execArgv: ["--import", "tsx"],
      stdio: "inherit",
    });
    await new Promise((resolve) => floor.once("message", resolve));
    const floorUrl = `http://127.0.0.1:${floorPort}`;

    const keyward = await startServer({
      KEYWARD_DATA_DIR: dataDir,
      KEYWARD_MASTER_KEY: masterKey,
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
    });
    const floorTarget: Target = { url: floorUrl, pid: floor.pid };
    const keywardTarget: Target = { url: keyward.url, pid: serverPid(keyward.process.pid) };
    try {
      // Warm-up: JIT, caches (every key once), connection pools.
      await drive(keywardTarget, payloads, { seconds: 5 });
      await drive(keywardTarget, adHoc, { seconds: 1 });
      await drive(keywardTarget, apollo, { seconds: 1 });
      await drive(keywardTarget, rest, { seconds: 2 });
      await drive(keywardTarget, gateway, { seconds: 2 });
      await drive(keywardTarget, audienced, { seconds: 2 });
      await expectAudience(keyward.url, audienced);
      // As long as the SDK's own warm-up: every key of the mix read once from the deployment.
      await drive(keywardTarget, snapshot, { seconds: 5 });
      await drive(floorTarget, payloads, { seconds: 3 });

      const floorFigures = await drive(floorTarget, payloads, { seconds: SECONDS });
      const keywardFigures = await drive(keywardTarget, payloads, { seconds: SECONDS });
      const rss = rssMb(keywardTarget.pid);
      const adHocFigures = await drive(keywardTarget, adHoc, { seconds: SECONDS });
      const apolloFigures = await drive(keywardTarget, apollo, { seconds: SECONDS });
      const restFigures = await drive(keywardTarget, rest, { seconds: SECONDS });
      const gatewayFigures = await drive(keywardTarget, gateway, { seconds: SECONDS });
      const audienceFigures = await drive(keywardTarget, audienced, { seconds: SECONDS });
      const snapshotFigures = await drive(keywardTarget, snapshot, { seconds: SECONDS });
      const few = { seconds: Math.ceil(SECONDS / 2), connections: FEW_CONNECTIONS };
      const floorFew = await drive(floorTarget, payloads, few);
      const keywardFew = await drive(keywardTarget, payloads, few);

      const ratio = (f: Figures, floor = floorFigures) => `${((f.rps / floor.rps) * 100).toFixed(1)}%`;
      const p99x = (f: Figures, floor = floorFigures) => `${(f.p99 / Math.max(floor.p99, 1)).toFixed(1)}×`;
      const row = (name: string, f: Figures, target = "") =>
        `${name.padEnd(24)} ${f.rps.toFixed(0).padStart(7)} req/s ${ratio(f).padStart(6)}   p50 ${String(f.p50).padStart(3)} ms   p99 ${String(f.p99).padStart(3)} ms ${p99x(f).padStart(5)}   CPU ${f.cpuUs.toFixed(0).padStart(4)} µs/req   errors ${f.errors}   non-2xx ${f.non2xx}   ${target}`;
      console.log(
        `\nverifyApiKey, ${KEYS} keys, ${CONNECTIONS} connections, ${SECONDS} s each (80% valid, 10% revoked, 10% malformed)`,
      );
      console.log(`${"path".padEnd(24)}         req/s  floor                        p99/floor's`);
      console.log(row("floor", floorFigures));
      console.log(row("GraphQL, SDK document", keywardFigures, "target ≥ 50%, p99 ≤ 1.5×"));
      console.log(row("GraphQL, ad hoc", adHocFigures, "target ≥ 35%, p99 ≤ 2×"));
      console.log(row("GraphQL, Apollo-style", apolloFigures, "target ≥ 35%, p99 ≤ 2×"));
      console.log(row("POST /v1/keys/verify", restFigures, "target ≥ 60%"));
      console.log(row("GET /v1/authorize", gatewayFigures, "target ≥ 60% (revoked and malformed are its non-2xx)"));
      console.log(
        row(
          "GraphQL, pk + audience",
          audienceFigures,
          "every answer VALID; 200 tokens, each HMAC-checked (jose) on first sight",
        ),
      );
      console.log(
        row(
          "GraphQL, from a deployment",
          snapshotFigures,
          `SDK document, ${GATED_KEYS} keys of a requireDeploy workspace`,
        ),
      );
      console.log(`keyward RSS ${rss} MB after the SDK run`);
      console.log(`\nthe same mix with ${FEW_CONNECTIONS} connections, ${few.seconds} s each`);
      console.log(row("floor", floorFew));
      console.log(row("keyward (SDK)", keywardFew));
      console.log(`ratio                ${ratio(keywardFew, floorFew)}; keyward p99 ${keywardFew.p99} ms`);
    } finally {
      // Graceful stop (flushes usage, closes the database); SIGKILL if it hangs.
      keyward.process.kill("SIGTERM");
      const stopped = await Promise.race([keyward.exited, new Promise((r) => setTimeout(() => r("timeout"), 15_000))]);
      if (stopped === "timeout") keyward.kill();
      floor.kill("SIGKILL");
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
