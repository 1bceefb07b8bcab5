import { createClient } from "@keyward/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Child, type ServerProcess, startRedis, waitFor } from "../helpers/processes";
import {
  latency,
  type Owner,
  outcome,
  serverEnv,
  signUpOwner,
  startServer,
  tally,
  underLoad,
  verifyRest,
} from "./fixture";
import { type Cluster, startCluster } from "./postgres";

// Redis, which two instances share for rate limits, killed under load and started
// again: every request is still answered (never a 500, never a hang), limits
// stay enforced by each instance's own in-memory count meanwhile (the insurance
// limiter), and the shared count resumes once Redis is back.

let pg: Cluster;
let redis: Child & { port: number };
let a: ServerProcess;
let b: ServerProcess;
let owner: Owner;
let verifier: string;

beforeAll(async () => {
  pg = await startCluster();
  redis = await startRedis();
  const env = serverEnv(pg.url, { REDIS_URL: `redis://127.0.0.1:${redis.port}` });
  [a, b] = await Promise.all([startServer(env), startServer(env)]);
  owner = await signUpOwner(a, "redis");
  verifier = (await owner.createKey(["keys:verify"], "verifier")).secret;
}, 120_000);

afterAll(async () => {
  a?.kill();
  b?.kill();
  redis?.kill();
  await pg?.remove();
});

/** How many of `n` verifications of the key on the server are let through. */
async function passes(server: ServerProcess, secret: string, n: number): Promise<number> {
  let valid = 0;
  for (let i = 0; i < n; i++) if ((await verifyRest(server, verifier, secret)).code === "VALID") valid++;
  return valid;
}

/** Whether A and B share one count: a key of limit 1 passes on A, then is refused on B. */
async function shared(): Promise<boolean> {
  const probe = await owner.createKey([], "probe", { limit: 1, windowSeconds: 300 });
  return (await passes(a, probe.secret, 1)) === 1 && (await passes(b, probe.secret, 1)) === 0;
}

it("Redis killed under load: answers never fail, each instance enforces limits alone, shared limits resume", async () => {
  expect(await shared()).toBe(true);
  const busy = await owner.createKey([], "busy", { limit: 1_000_000, windowSeconds: 300 });
  let turn = 0;
  const load = underLoad(4, () => verifyRest(turn++ % 2 ? b : a, verifier, busy.secret));
  await new Promise((resolve) => setTimeout(resolve, 300));

  redis.kill();
  await redis.exited;
  const down = Date.now();
  // A limit of 5 lets 5 through on each instance while they cannot share a count.
  const limited = await owner.createKey([], "limited", { limit: 5, windowSeconds: 300 });
  const duringOutage = [await passes(a, limited.secret, 8), await passes(b, limited.secret, 8)];
  const graphql = await outcome(() =>
    createClient({ url: `${b.url}/graphql`, token: owner.token }).apiKeys({
      workspaceId: owner.workspaceId,
      environment: "LIVE",
      first: 1,
    }),
  );
  const ready = [(await fetch(`${a.url}/readyz`)).status, (await fetch(`${b.url}/readyz`)).status];
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  redis = await startRedis(redis.port);
  const up = Date.now();
  await waitFor(shared, 15_000);
  const sharedAgain = Date.now() - up;
  const afterwards = await owner.createKey([], "afterwards", { limit: 4, windowSeconds: 300 });
  const acrossBoth = (await passes(a, afterwards.secret, 4)) + (await passes(b, afterwards.secret, 4));
  const answers = await load.stop();
  const outage = answers.filter((answer) => answer.at > down && answer.at < up);

  console.log(
    `[faults] redis killed: ${answers.length} verifications under load ${JSON.stringify(tally(answers))}; ` +
      `during the outage ${outage.length} (${latency(outage)}); a limit of 5 let [A, B] = ` +
      `${JSON.stringify(duringOutage)} through of 8 each; GraphQL ${graphql}; /readyz ${JSON.stringify(ready)}; ` +
      `shared again ${sharedAgain} ms after Redis started; a limit of 4 then let ${acrossBoth} through across both`,
  );
  expect(outage.length).toBeGreaterThan(0);
  expect(tally(answers)).toEqual({ "200 VALID": answers.length });
  expect(Math.max(...outage.map((answer) => answer.ms))).toBeLessThan(2_000);
  expect(duringOutage).toEqual([5, 5]);
  expect(graphql).toBe("ok");
  expect(ready).toEqual([200, 200]);
  expect(acrossBoth).toBe(4);
});
