import { randomBytes } from "node:crypto";
import { createClient, type KeywardClient, KeywardError } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { type Child, type ServerProcess, startRedis, startServer, waitFor } from "../helpers/processes";

// Two real Keyward processes on loopback sharing one PostgreSQL database and one
// Redis, as a production deployment runs. Needs DATABASE_URL (a PostgreSQL server
// on which it may create a database) and redis-server on PATH; `.ci/run` provides both.

let database: TestDatabase;
let redis: Child & { port: number };
let a: ServerProcess;
let b: ServerProcess;
let ownerA: KeywardClient;
let verifierA: KeywardClient;
let verifierB: KeywardClient;
let workspaceId: string;
let forms: string;

const client = (server: ServerProcess, token?: string) => createClient({ url: `${server.url}/graphql`, token });

beforeAll(async () => {
  if (!process.env.DATABASE_URL) {
    throw new Error(
      "the multi-instance tests need DATABASE_URL pointing at PostgreSQL (see README: npm run test:cluster)",
    );
  }
  database = await openTestDatabase();
  redis = await startRedis();
  const env = {
    DATABASE_URL: database.url ?? "",
    REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    KEYWARD_MASTER_KEY: randomBytes(32).toString("base64"),
  };
  [a, b] = await Promise.all([startServer(env), startServer(env)]);
  const { signUp } = await client(a).signUp({
    input: { email: "owner@cluster.test", password: "correct horse battery staple", name: "Owner" },
  });
  ownerA = client(a, signUp.token);
  workspaceId = (await ownerA.createWorkspace({ input: { name: "Cluster", slug: "cluster" } })).createWorkspace.id;
  forms = (await ownerA.createService({ input: { workspaceId, slug: "forms", name: "Forms" } })).createService.id;
  const verifier = await createKey(["keys:verify"]);
  verifierA = client(a, verifier.secret);
  verifierB = client(b, verifier.secret);
}, 90_000);

afterAll(async () => {
  a?.kill();
  b?.kill();
  redis?.kill();
  await database?.drop();
});

async function createKey(scopes: string[], rateLimit?: { limit: number; windowSeconds: number }, serviceId?: string) {
  const { createApiKey } = await ownerA.createApiKey({
    input: { workspaceId, name: "cluster key", type: "SECRET", environment: "LIVE", scopes, rateLimit, serviceId },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

const verify = async (via: KeywardClient, key: string) => (await via.verifyApiKey({ input: { key } })).verifyApiKey;

describe("two instances sharing PostgreSQL and Redis", () => {
  it("a key revoked on A is refused by B within one second", async () => {
    const target = await createKey([]);
    // Both instances have the key warm in their caches.
    expect((await verify(verifierA, target.secret)).code).toBe("VALID");
    expect((await verify(verifierB, target.secret)).code).toBe("VALID");
    await ownerA.revokeApiKey({ input: { id: target.id, reason: "leaked" } });
    const revokedAt = Date.now();
    expect((await verify(verifierA, target.secret)).code).toBe("invalid_api_key");
    let seenOnB = 0;
    await waitFor(async () => {
      const code = (await verify(verifierB, target.secret)).code;
      if (code === "invalid_api_key") seenOnB = Date.now();
      return code === "invalid_api_key";
    }, 5_000);
    expect(seenOnB - revokedAt).toBeLessThan(1_000);
  });

  it("an update, a roll and the key switch on A reach B's cache within one second", async () => {
    const target = await createKey(["service.forms.read"]);
    const check = async (via: KeywardClient) =>
      (await via.verifyApiKey({ input: { key: target.secret, requiredScopes: ["service.forms.read"] } })).verifyApiKey
        .code;
    expect(await check(verifierB)).toBe("VALID");
    const seenOnB = async (code: string) => {
      const changedAt = Date.now();
      await waitFor(async () => (await check(verifierB)) === code, 5_000);
      expect(Date.now() - changedAt).toBeLessThan(1_000);
    };

    // Update: the scope is taken away.
    await ownerA.updateApiKey({ input: { id: target.id, scopes: [] } });
    await seenOnB("insufficient_scope");

    // Roll with no grace: the old key stops at once.
    await ownerA.updateApiKey({ input: { id: target.id, scopes: ["service.forms.read"] } });
    await seenOnB("VALID");
    const { rollApiKey } = await ownerA.rollApiKey({ input: { id: target.id, gracePeriodSeconds: 0 } });
    await seenOnB("key_expired");

    // The workspace switch, on the successor. The verifier belongs to the same
    // workspace, so B refuses the call itself: its error code is B's answer then.
    const successor = rollApiKey.secret;
    const onB = () =>
      verify(verifierB, successor).then(
        (result) => result.code,
        (error: unknown) => (error instanceof KeywardError ? error.code : "unexpected"),
      );
    expect(await onB()).toBe("VALID");
    await ownerA.setKeysEnabled({ input: { workspaceId, enabled: false } });
    const switchedAt = Date.now();
    await waitFor(async () => (await onB()) === "keys_disabled", 5_000);
    expect(Date.now() - switchedAt).toBeLessThan(1_000);
    await ownerA.setKeysEnabled({ input: { workspaceId, enabled: true } });
    await waitFor(async () => (await onB()) === "VALID", 5_000);
  });

  it("a service switched off on A is refused by B within one second, and works on B once back on", async () => {
    const holder = await createKey(["service.forms.read"]);
    const bound = await createKey(["keys:read"], undefined, forms);
    const required = async () =>
      (await verifierB.verifyApiKey({ input: { key: holder.secret, requiredScopes: ["service.forms.read"] } }))
        .verifyApiKey.code;
    // The bound key as B's caller: its own credential answers (402 while off).
    const asCaller = () =>
      client(b, bound.secret)
        .apiKeys({ workspaceId, environment: "LIVE", first: 1 })
        .then(
          () => "ok",
          (error: unknown) => (error instanceof KeywardError ? `${error.code} ${error.status}` : "unexpected"),
        );
    const onB = async () => [await required(), (await verify(verifierB, bound.secret)).code, await asCaller()];
    // All three warm in B's cache.
    expect(await onB()).toEqual(["VALID", "VALID", "ok"]);

    await ownerA.setServiceActive({ input: { id: forms, active: false } });
    const offAt = Date.now();
    const off = ["service_inactive", "service_inactive", "service_inactive 402"];
    await waitFor(async () => JSON.stringify(await onB()) === JSON.stringify(off), 5_000);
    expect(Date.now() - offAt).toBeLessThan(1_000);

    await ownerA.setServiceActive({ input: { id: forms, active: true } });
    const onAt = Date.now();
    await waitFor(async () => JSON.stringify(await onB()) === JSON.stringify(["VALID", "VALID", "ok"]), 5_000);
    expect(Date.now() - onAt).toBeLessThan(1_000);
  });

  it("a pair regenerated on A with no grace is refused by B within one second; the new pair works on B", async () => {
    const { createKeyPair: old } = await ownerA.createKeyPair({
      input: {
        workspaceId,
        name: "widget",
        environment: "LIVE",
        publishable: { scopes: ["keys:read"], allowedOrigins: ["https://chat.example.com"] },
        secret: { scopes: ["keys:read"] },
      },
    });
    const onB = async (pk: string, sk: string) => [
      (await verifierB.verifyApiKey({ input: { key: pk, origin: "https://chat.example.com" } })).verifyApiKey.code,
      (await verify(verifierB, sk)).code,
    ];
    expect(await onB(old.publishableKey.secret, old.secretKey.secret)).toEqual(["VALID", "VALID"]);
    const { regenerateKeyPair: fresh } = await ownerA.regenerateKeyPair({ input: { id: old.secretKey.apiKey.id } });
    const at = Date.now();
    await waitFor(
      async () =>
        JSON.stringify(await onB(old.publishableKey.secret, old.secretKey.secret)) ===
        JSON.stringify(["key_expired", "key_expired"]),
      5_000,
    );
    expect(Date.now() - at).toBeLessThan(1_000);
    expect(await onB(fresh.publishableKey.secret, fresh.secretKey.secret)).toEqual(["VALID", "VALID"]);
  });

  it("a limit of N per window across both instances lets at most N through", async () => {
    const limited = await createKey([], { limit: 10, windowSeconds: 300 });
    const calls = Array.from({ length: 40 }, (_, i) => verify(i % 2 ? verifierB : verifierA, limited.secret));
    const codes = (await Promise.all(calls)).map((r) => r.code);
    expect(codes.filter((c) => c === "VALID")).toHaveLength(10);
    expect(codes.filter((c) => c === "rate_limit_exceeded")).toHaveLength(30);
  });

  it("killing Redis mid-run keeps both servers answering, and shared limits resume when it returns", async () => {
    const key = await createKey([], { limit: 1000, windowSeconds: 300 });
    const before = await Promise.all([verify(verifierA, key.secret), verify(verifierB, key.secret)]);
    expect(before.map((r) => r.code)).toEqual(["VALID", "VALID"]);

    redis.kill();
    await redis.exited;
    // Every answer is still data: the in-memory insurance limiter takes over.
    for (let i = 0; i < 10; i++) {
      const results = await Promise.all([verify(verifierA, key.secret), verify(verifierB, key.secret)]);
      expect(results.map((r) => r.code)).toEqual(["VALID", "VALID"]);
    }
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);

    redis = await startRedis(redis.port);
    const shared = await createKey([], { limit: 4, windowSeconds: 300 });
    // Once both reconnect, the count is shared again: 4 in total, not 4 per instance.
    await waitFor(async () => {
      const probe = await createKey([], { limit: 1, windowSeconds: 300 });
      const first = await verify(verifierA, probe.secret);
      const second = await verify(verifierB, probe.secret);
      return first.code === "VALID" && second.code === "rate_limit_exceeded";
    }, 15_000);
    const codes: string[] = [];
    for (let i = 0; i < 8; i++) codes.push((await verify(i % 2 ? verifierB : verifierA, shared.secret)).code);
    expect(codes.filter((c) => c === "VALID")).toHaveLength(4);
  });
});
