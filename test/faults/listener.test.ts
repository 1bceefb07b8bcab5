import { createClient, type KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LISTENER_NAME } from "../../server/keys/invalidation";
import { type ServerProcess, waitFor } from "../helpers/processes";
import { type Answer, type Owner, serverEnv, signUpOwner, startServer, tally, underLoad, verifyRest } from "./fixture";
import { type Cluster, startCluster } from "./postgres";

// The LISTEN connection that carries other instances' invalidations, cut three
// ways under instance A while instance B revokes keys: killed by PostgreSQL
// (pg_terminate_backend), frozen so that it neither answers nor breaks (SIGSTOP
// to its backend: the notification of B's revocation is stuck in it), and lost with
// a restart of PostgreSQL. A must notice within a second, answer nothing from a
// cache that may have missed a revocation, and listen again.

let pg: Cluster;
let a: ServerProcess;
let b: ServerProcess;
let owner: Owner;
let ownerB: KeywardClient;
let verifier: string;
let listenerOfB: number;

const listeners = async () =>
  (await pg.sql<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [LISTENER_NAME])).map(
    (row) => row.pid,
  );
const listenerOfA = async () => (await listeners()).filter((pid) => pid !== listenerOfB);

beforeAll(async () => {
  pg = await startCluster();
  const env = serverEnv(pg.url);
  a = await startServer(env);
  const [ofA] = await listeners();
  b = await startServer(env);
  const ofB = (await listeners()).find((pid) => pid !== ofA);
  if (ofA === undefined || ofB === undefined) throw new Error("each instance should hold one listening connection");
  listenerOfB = ofB;
  owner = await signUpOwner(a, "listener");
  ownerB = createClient({ url: `${b.url}/graphql`, token: owner.token });
  verifier = (await owner.createKey(["keys:verify"], "verifier")).secret;
}, 120_000);

afterAll(async () => {
  a?.kill();
  b?.kill();
  await pg?.remove();
});

/** A key both instances hold warm. */
async function warmKey() {
  const key = await owner.createKey([], "target");
  for (const server of [a, b]) expect((await verifyRest(server, verifier, key.secret)).code).toBe("VALID");
  return key;
}

const revokeOnB = (id: string) => ownerB.revokeApiKey({ input: { id, reason: "leaked" } });

/** Polls /readyz of A: when it first said 503, and when 200 again after that. */
function watchReadiness(server: ServerProcess) {
  const seen = { down: 0, up: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const status = await fetch(`${server.url}/readyz`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 503 && !seen.down) seen.down = Date.now();
      if (status === 200 && seen.down && !seen.up) seen.up = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    seen,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** A refuses the key from the first request sent after `since`, and never answers VALID again. */
function refusedFrom(answers: readonly Answer[], since: number) {
  const later = answers.filter((answer) => answer.at >= since);
  expect(later.length).toBeGreaterThan(0);
  expect(tally(later)).toEqual({ "200 invalid_api_key": later.length });
}

it("killed with pg_terminate_backend: A listens again at once, and B's next revocation reaches it", async () => {
  const key = await warmKey();
  const [old] = await listenerOfA();
  const killedAt = Date.now();
  await pg.sql("SELECT pg_terminate_backend($1)", [old]);
  let fresh: number | undefined;
  await waitFor(async () => {
    [fresh] = await listenerOfA();
    return fresh !== undefined && fresh !== old;
  }, 5_000);
  const relistened = Date.now() - killedAt;
  await waitFor(async () => (await fetch(`${a.url}/readyz`)).status === 200, 5_000);
  await revokeOnB(key.id);
  const revokedAt = Date.now();
  await waitFor(async () => (await verifyRest(a, verifier, key.secret)).code === "invalid_api_key", 5_000);
  const heard = Date.now() - revokedAt;
  console.log(
    `[faults] listener killed: A listening again after ${relistened} ms; B's revocation refused on A after ${heard} ms`,
  );
  expect(relistened).toBeLessThan(1_000);
  expect(heard).toBeLessThan(1_000);
});

it("frozen (its notification of B's revocation stuck): A notices within a second and refuses the key", async () => {
  const key = await warmKey();
  // Not asked for on A until A listens again: only dropping the whole cache on reconnect refuses it.
  const quiet = await warmKey();
  const [frozen] = await listenerOfA();
  const group = a.process.pid;
  if (frozen === undefined || group === undefined) throw new Error("A has no listener");
  const ready = watchReadiness(a);
  const load = underLoad(2, () => verifyRest(a, verifier, key.secret));
  await new Promise((resolve) => setTimeout(resolve, 200));
  // A is paused while its listener's backend freezes and B revokes, so the
  // notification is surely stuck before A's heartbeat could say anything.
  process.kill(-group, "SIGSTOP");
  process.kill(frozen, "SIGSTOP");
  try {
    await revokeOnB(key.id);
    await revokeOnB(quiet.id);
    process.kill(-group, "SIGCONT");
    const resumedAt = Date.now();
    await waitFor(async () => ready.seen.up > 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const answers = await load.stop();
    await ready.stop();
    const quietOnA = await verifyRest(a, verifier, quiet.secret);
    const firstRefusal = answers.find((answer) => answer.code === "invalid_api_key")?.at ?? 0;
    const stale = answers.filter((answer) => answer.at >= resumedAt && answer.code === "VALID").length;
    console.log(
      `[faults] listener frozen: A's /readyz 503 ${ready.seen.down - resumedAt} ms after A resumed (the revocation ` +
        `already committed), 200 again ${ready.seen.up - resumedAt} ms after; first refusal on A ` +
        `${firstRefusal - resumedAt} ms after; ${stale} VALID answers on A before it noticed; ` +
        `A's answers: ${JSON.stringify(tally(answers))}`,
    );
    // Noticed within a second (the heartbeat's deadline), not at a cache TTL.
    expect(ready.seen.down - resumedAt).toBeLessThan(1_000);
    expect(ready.seen.up).toBeGreaterThan(ready.seen.down);
    // From the moment A knew it might have missed something, the key is refused.
    refusedFrom(answers, ready.seen.down);
    expect(quietOnA.code).toBe("invalid_api_key");
  } finally {
    process.kill(-group, "SIGCONT");
    process.kill(frozen, "SIGCONT");
  }
});

it("PostgreSQL restarted: A answers warm keys during the outage, and a key B revokes once it is back is refused on A at once", async () => {
  const key = await warmKey();
  const load = underLoad(2, () => verifyRest(a, verifier, key.secret));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await pg.stop();
  const down = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await pg.start();
  const up = Date.now();
  // B revokes as soon as it can write again; A may or may not be listening yet.
  await waitFor(async () => {
    await revokeOnB(key.id);
    return true;
  }, 10_000);
  const revokedAt = Date.now();
  const aListening = (await listenerOfA()).length > 0;
  await waitFor(async () => (await listeners()).length === 2, 10_000);
  const bothListening = Date.now() - up;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const answers = await load.stop();
  const outage = answers.filter((answer) => answer.at > down && answer.at < up);
  console.log(
    `[faults] postgres restarted: A during the outage ${JSON.stringify(tally(outage))}; B revoked ` +
      `${revokedAt - up} ms after the start (A ${aListening ? "already" : "not yet"} listening); both listening ` +
      `${bothListening} ms after the start; A after the revocation ${JSON.stringify(tally(answers.filter((x) => x.at >= revokedAt)))}`,
  );
  expect(outage.length).toBeGreaterThan(0);
  expect(tally(outage)).toEqual({ "200 VALID": outage.length });
  refusedFrom(answers, revokedAt);
  expect(bothListening).toBeLessThan(5_000);
});
