import { afterAll, beforeAll, expect, it } from "vitest";
import { type ServerProcess, waitFor } from "../helpers/processes";
import {
  type Answer,
  client,
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

// PostgreSQL stopped and started again under verification load, on a server that
// stays up throughout: warm keys keep verifying, /readyz says the database is down,
// writes are refused with a catalog error and leave nothing behind, and everything
// works again once PostgreSQL is back, without restarting Keyward.

let pg: Cluster;
let server: ServerProcess;
let owner: Owner;

beforeAll(async () => {
  pg = await startCluster();
  server = await startServer(serverEnv(pg.url));
  owner = await signUpOwner(server, "outage");
}, 120_000);

afterAll(async () => {
  server?.kill();
  await pg?.remove();
});

const readiness = async () => (await fetch(`${server.url}/readyz`)).status;

it("PostgreSQL stopped under load: warm keys verify, /readyz is 503, writes are refused cleanly, all recovers", async () => {
  const verifier = await owner.createKey(["keys:verify"], "verifier");
  const writer = await owner.createKey(["keys:write"], "writer");
  const targets = await Promise.all([1, 2, 3].map(() => owner.createKey([], "target")));
  const viaWriter = client(server, writer.secret);
  const create = (name: string) => () =>
    viaWriter.createApiKey({
      input: { workspaceId: owner.workspaceId, name, type: "SECRET", environment: "LIVE", scopes: [] },
    });
  // Warm: each target and the verifier itself are in the cache; the writer key too.
  for (const target of targets) expect((await verifyRest(server, verifier.secret, target.secret)).code).toBe("VALID");
  expect(await outcome(create("warm-up"))).toBe("ok");

  let turn = 0;
  const load = underLoad(4, () => verifyRest(server, verifier.secret, targets[turn++ % targets.length]?.secret ?? ""));
  await new Promise((resolve) => setTimeout(resolve, 500));

  const stoppedAt = Date.now();
  await pg.stop();
  const down = Date.now();
  let notReadyAfter = 0;
  await waitFor(async () => (await readiness()) === 503, 5_000);
  notReadyAfter = Date.now() - down;
  const writes: string[] = [];
  for (let i = 0; i < 3; i++) writes.push(await outcome(create(`during outage ${i}`)));
  const sessionWrite = await outcome(() =>
    owner.client.createApiKey({
      input: {
        workspaceId: owner.workspaceId,
        name: "during outage session",
        type: "SECRET",
        environment: "LIVE",
        scopes: [],
      },
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const restartAt = Date.now();
  await pg.start();
  const up = Date.now();
  await waitFor(async () => (await readiness()) === 200, 10_000);
  const readyAfter = Date.now() - up;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const answers = await load.stop();

  const during = answers.filter((a: Answer) => a.at > down && a.at < restartAt);
  const after = answers.filter((a: Answer) => a.at > up + readyAfter);
  console.log(
    `[faults] postgres outage: stop took ${down - stoppedAt} ms, /readyz 503 within ${notReadyAfter} ms, ` +
      `200 again ${readyAfter} ms after start; ${answers.length} verifications in all; ` +
      `during the outage ${JSON.stringify(tally(during))} (${latency(during)}); ` +
      `after ${JSON.stringify(tally(after))} (${latency(after)}); ` +
      `writes during outage: ${JSON.stringify([...writes, sessionWrite])}`,
  );
  expect(during.length).toBeGreaterThan(20);
  expect(tally(during)).toEqual({ "200 VALID": during.length });
  expect(tally(after)).toEqual({ "200 VALID": after.length });
  expect(writes).toEqual(Array(3).fill("503 database_unavailable"));
  expect(sessionWrite).toBe("503 database_unavailable");

  // Recovered without a restart: writes work, and nothing of the refused ones was written.
  expect(await outcome(create("after outage"))).toBe("ok");
  const rows = await pg.sql<{ name: string }>("SELECT name FROM api_keys WHERE name LIKE 'during outage%'");
  expect(rows).toEqual([]);
  // Every key created has its audit event and every audit event its key: no half of a write.
  const orphans = await pg.sql<{ n: string }>(
    `SELECT (SELECT count(*) FROM audit_events e WHERE e.action = 'api_key.create'
               AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id::text = e.target_id))
          + (SELECT count(*) FROM api_keys k WHERE NOT EXISTS (
               SELECT 1 FROM audit_events e WHERE e.action = 'api_key.create' AND e.target_id = k.id::text)) AS n`,
  );
  expect(orphans[0]?.n).toBe("0");
});
