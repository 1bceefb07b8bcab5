import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ServerProcess, waitFor } from "../helpers/processes";
import { type Answer, client, type Owner, serverEnv, signUpOwner, startServer, underLoad, verifyRest } from "./fixture";
import { type Cluster, startCluster } from "./postgres";

// kill -9 of a server under verification load, at random moments and, twice, in
// the middle of a usage flush (its write held on a row lock, the server killed,
// then the lock released: the flush is one transaction, and a dead server's
// transaction never commits, so nothing of it is half-written). A commit whose
// answer is lost is usage-in-doubt.test.ts.
// The usage counted must never exceed what was answered (no double count), and
// must hold every use answered more than one flush interval (plus the write's own
// time) before the kill.

const FLUSH_MS = 300;
/** A use answered this long before the kill has surely been written. */
const WRITTEN_WITHIN_MS = FLUSH_MS + 700;

let cluster: Cluster;
let env: Record<string, string>;
let owner: Owner;
let verifier: string;

beforeAll(async () => {
  cluster = await startCluster();
  env = serverEnv(cluster.url, { KEYWARD_USAGE_FLUSH_MS: String(FLUSH_MS) });
  const first = await startServer(env);
  owner = await signUpOwner(first, "usage");
  verifier = (await owner.createKey(["keys:verify"], "verifier")).secret;
  first.kill();
  await first.exited;
}, 120_000);

afterAll(async () => {
  await cluster?.remove();
});

const counted = async (keyId: string) =>
  Number(
    (
      await cluster.sql<{ n: string | null }>(
        "SELECT sum(count) AS n FROM api_key_usage WHERE key_id = $1 AND outcome = 'VALID'",
        [keyId],
      )
    )[0]?.n ?? 0,
  );

interface Cycle {
  how: string;
  acknowledged: number;
  unanswered: number;
  counted: number;
  answeredEarly: number;
  committedAfterKill: number;
}

/** One server's life: a fresh key verified under load until `kill` decides to kill it. */
async function cycle(how: string, kill: (server: ServerProcess, keyId: string) => Promise<() => Promise<void>>) {
  const server = await startServer(env);
  const owned = client(server, owner.token);
  const { createApiKey } = await owned.createApiKey({
    input: { workspaceId: owner.workspaceId, name: how, type: "SECRET", environment: "LIVE", scopes: [] },
  });
  const keyId = createApiKey.apiKey.id;
  const load = underLoad(4, () => verifyRest(server, verifier, createApiKey.secret));
  // Past the first, slow answers of a fresh process, so kills land in steady traffic.
  await waitFor(async () => load.answers.length >= 40, 20_000);
  const release = await kill(server, keyId);
  server.kill();
  const killedAt = Date.now();
  await server.exited;
  const answers: Answer[] = await load.stop();
  const before = await counted(keyId);
  await release();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const result: Cycle = {
    how,
    acknowledged: answers.filter((a) => a.code === "VALID").length,
    // Sent but never answered: the kill cut them off (each may have been counted).
    unanswered: answers.filter((a) => a.status === 0).length,
    counted: await counted(keyId),
    answeredEarly: answers.filter((a) => a.code === "VALID" && a.at + a.ms <= killedAt - WRITTEN_WITHIN_MS).length,
    committedAfterKill: 0,
  };
  result.committedAfterKill = result.counted - before;
  return result;
}

const nothingToRelease = async () => {};

it("kill -9 at random moments and mid-flush: usage never double-counts and loses at most the last interval", async () => {
  const cycles: Cycle[] = [];
  for (let i = 0; i < 5; i++) {
    const after = 100 + Math.floor(Math.random() * 1_900);
    cycles.push(
      await cycle(`random ${after} ms`, async () => {
        await new Promise((resolve) => setTimeout(resolve, after));
        return nothingToRelease;
      }),
    );
  }
  for (let i = 0; i < 2; i++) {
    cycles.push(
      await cycle("mid-flush", async (_server, keyId) => {
        // Once a first flush has written the key's row, hold it: the next flush's upsert waits on it.
        await waitFor(async () => (await counted(keyId)) > 0, 10_000);
        const holder = new pg.Client({ connectionString: cluster.url });
        await holder.connect();
        await holder.query("BEGIN");
        await holder.query("SELECT 1 FROM api_key_usage WHERE key_id = $1 FOR UPDATE", [keyId]);
        await waitFor(
          async () =>
            (
              await cluster.sql(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO api_key_usage%'",
              )
            ).length > 0,
          10_000,
        );
        return async () => {
          await holder.query("ROLLBACK");
          await holder.end();
        };
      }),
    );
  }
  for (const c of cycles) {
    console.log(
      `[faults] usage kill (${c.how}): acknowledged ${c.acknowledged}, unanswered ${c.unanswered}, counted ${c.counted} ` +
        `(lost ${c.acknowledged - c.counted}, committed after the kill ${c.committedAfterKill}); ` +
        `answered more than ${WRITTEN_WITHIN_MS} ms before the kill ${c.answeredEarly}`,
    );
  }
  for (const c of cycles) {
    expect(c.acknowledged).toBeGreaterThan(0);
    // Never double-counted: at most every answered use, plus the few cut off in flight.
    expect(c.counted).toBeLessThanOrEqual(c.acknowledged + c.unanswered);
    // At most the last interval lost.
    expect(c.counted).toBeGreaterThanOrEqual(c.answeredEarly);
  }
  // The held flushes were in progress when their server died: none of it committed without it.
  for (const c of cycles.filter((x) => x.how === "mid-flush")) expect(c.committedAfterKill).toBe(0);
});
