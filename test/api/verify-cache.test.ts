import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../server/keys/format";
import { PASSWORD, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";

// A warm verification reads only the in-memory cache: not one SQL statement, for
// valid, revoked, unknown and malformed keys alike. Yet every change to a key or
// to its workspace's switch is honoured by the very next verification. Queries
// are counted through Prisma's query log.

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({}, { countQueries: true });
  // Only explicit flushes write usage here, so no timer-driven write can land
  // inside a counted window or race the "nothing written yet" assertions.
  await app.keys.usage.stop();
});

afterAll(() => app.close());

const counting = <T>(call: () => Promise<T>) => app.counting(call);

const client = (token?: string, headers?: Record<string, string>): KeywardClient => app.client(token, headers);

let slugCounter = 0;
const freshSlug = (prefix: string) => `${prefix}-${process.pid}-${++slugCounter}`;

let owner: KeywardClient;
let ws: { id: string };
let verifier: KeywardClient;

async function makeKey(scopes: string[] = ["keys:read"], workspaceId = ws.id) {
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId, name: "customer", type: "SECRET", environment: "LIVE", scopes },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

async function verify(by: KeywardClient, key: string, requiredScopes: string[] = []) {
  return (await by.verifyApiKey({ input: { key, requiredScopes } })).verifyApiKey;
}

beforeAll(async () => {
  const { signUp } = await client().signUp({ input: { email: uniqueEmail("cache"), password: PASSWORD, name: "C" } });
  owner = client(signUp.token);
  ws = (await owner.createWorkspace({ input: { name: "Cache", slug: freshSlug("cache") } })).createWorkspace;
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId: ws.id, name: "verifier", type: "SECRET", environment: "LIVE", scopes: ["keys:verify"] },
  });
  verifier = client(createApiKey.secret);
});

function malformedKeys(): string[] {
  const good = generateKey("SECRET", "LIVE");
  return [good.slice(0, -1) + (good.at(-1) === "A" ? "B" : "A"), `xk${good.slice(2)}`, "", "x".repeat(10 * 1024)];
}

describe("a warm verification touches no database", () => {
  it("50 warm verifications of valid, revoked, unknown and malformed keys cost 0 queries", async () => {
    const valid = await makeKey();
    const revoked = await makeKey();
    await owner.revokeApiKey({ input: { id: revoked.id } });
    const unknown = generateKey("SECRET", "LIVE");
    const malformed = malformedKeys();

    // Cold: each key is looked up once.
    expect((await verify(verifier, valid.secret)).code).toBe("VALID");
    expect((await verify(verifier, revoked.secret)).code).toBe("invalid_api_key");
    expect((await verify(verifier, unknown)).code).toBe("not_found");

    const cases: [string, string][] = [
      [valid.secret, "VALID"],
      [revoked.secret, "invalid_api_key"],
      [unknown, "not_found"],
      ...malformed.map((key): [string, string] => [key, "invalid_key_format"]),
    ];
    const { result: codes, statements } = await counting(async () => {
      const seen: string[] = [];
      for (let i = 0; i < 50; i++) {
        const [key, expected] = cases[i % cases.length] as [string, string];
        const result = await verify(verifier, key, i % 2 ? ["keys:read"] : []);
        seen.push(result.code === expected ? "ok" : `${i}: ${result.code} instead of ${expected}`);
      }
      return seen;
    });
    expect(codes.filter((code) => code !== "ok")).toEqual([]);
    expect(statements, statements.join("\n")).toEqual([]);
  });

  it("keys of a switched-off service, bound or by a required scope, answer from the cache: 0 queries", async () => {
    const { createService: lapsed } = await owner.createService({
      input: { workspaceId: ws.id, slug: freshSlug("lapsed"), name: "Lapsed" },
    });
    const scope = `service.${lapsed.slug}.read`;
    const bound = (
      await owner.createApiKey({
        input: { workspaceId: ws.id, name: "bound", type: "SECRET", environment: "LIVE", serviceId: lapsed.id },
      })
    ).createApiKey.secret;
    const holder = await makeKey([scope]);
    await owner.setServiceActive({ input: { id: lapsed.id, active: false } });
    // Cold once: the workspace's switched-off services are read with it.
    expect((await verify(verifier, bound)).code).toBe("service_inactive");
    expect((await verify(verifier, holder.secret, [scope])).code).toBe("service_inactive");
    const { result: codes, statements } = await counting(async () => {
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        seen.push((await verify(verifier, i % 2 ? bound : holder.secret, i % 2 ? [] : [scope])).code);
      }
      return new Set(seen);
    });
    expect([...codes]).toEqual(["service_inactive"]);
    expect(statements, statements.join("\n")).toEqual([]);
    await owner.setServiceActive({ input: { id: lapsed.id, active: true } });
  });

  it("malformed keys never query, even the first time they are seen", async () => {
    // Warm the caller's own key first: only the verified keys are cold.
    await verify(verifier, malformedKeys()[0] as string);
    const before = { ...app.keys.cache.stats };
    const { result, statements } = await counting(async () => {
      const codes: string[] = [];
      for (const key of malformedKeys()) codes.push((await verify(verifier, key)).code);
      return codes;
    });
    expect(result).toEqual(["invalid_key_format", "invalid_key_format", "invalid_key_format", "invalid_key_format"]);
    expect(statements).toEqual([]);
    // The caller's own key is read from the cache (4 hits); the verified keys are never looked up.
    expect(app.keys.cache.stats).toEqual({ ...before, hits: before.hits + 4 });
  });

  it("an unknown key is negatively cached: the second verification is a negative hit, no lookup", async () => {
    const unknown = generateKey("SECRET", "LIVE");
    expect((await verify(verifier, unknown)).code).toBe("not_found");
    const before = { ...app.keys.cache.stats };
    const { result, statements } = await counting(() => verify(verifier, unknown));
    expect(result.code).toBe("not_found");
    expect(statements).toEqual([]);
    expect(app.keys.cache.stats.negativeHits).toBe(before.negativeHits + 1);
    expect(app.keys.cache.stats.dbLookups).toBe(before.dbLookups);
    expect(app.keys.cache.stats.misses).toBe(before.misses);
  });
});

describe("changes are honoured by the very next verification", () => {
  /** Verifies twice and proves the second answer came from the cache. */
  async function verifyWarm(by: KeywardClient, key: string, requiredScopes: string[] = []) {
    await verify(by, key, requiredScopes);
    const { result, statements } = await counting(() => verify(by, key, requiredScopes));
    // A session caller costs its own session lookup; nothing may read api_keys or workspaces.
    expect(statements.filter((sql) => /"api_keys"|"workspaces"|"services"/.test(sql))).toEqual([]);
    return result;
  }

  it("revokeApiKey → invalid_api_key", async () => {
    const key = await makeKey();
    expect((await verifyWarm(verifier, key.secret)).code).toBe("VALID");
    await owner.revokeApiKey({ input: { id: key.id, reason: "leaked" } });
    expect((await verify(verifier, key.secret)).code).toBe("invalid_api_key");
  });

  it("setKeysEnabled(false) → keys_disabled, and back to VALID when switched on", async () => {
    // The verifier of this workspace would be switched off too; its owner verifies.
    const other = (await owner.createWorkspace({ input: { name: "Switch", slug: freshSlug("cache-switch") } }))
      .createWorkspace;
    const key = await makeKey(["keys:read"], other.id);
    expect((await verifyWarm(owner, key.secret)).code).toBe("VALID");
    await owner.setKeysEnabled({ input: { workspaceId: other.id, enabled: false } });
    expect((await verify(owner, key.secret)).code).toBe("keys_disabled");
    await owner.setKeysEnabled({ input: { workspaceId: other.id, enabled: true } });
    expect((await verify(owner, key.secret)).code).toBe("VALID");
  });

  it("setServiceActive(false) → service_inactive for bound keys and required scopes, and VALID once on", async () => {
    const { createService: service } = await owner.createService({
      input: { workspaceId: ws.id, slug: freshSlug("switched"), name: "Switched" },
    });
    const scope = `service.${service.slug}.read`;
    const bound = (
      await owner.createApiKey({
        input: { workspaceId: ws.id, name: "bound", type: "SECRET", environment: "LIVE", serviceId: service.id },
      })
    ).createApiKey.secret;
    const holder = (await makeKey([scope])).secret;
    expect((await verifyWarm(verifier, bound)).code).toBe("VALID");
    expect((await verifyWarm(verifier, holder, [scope])).code).toBe("VALID");
    await owner.setServiceActive({ input: { id: service.id, active: false } });
    expect((await verify(verifier, bound)).code).toBe("service_inactive");
    expect((await verify(verifier, holder, [scope])).code).toBe("service_inactive");
    await owner.setServiceActive({ input: { id: service.id, active: true } });
    expect((await verify(verifier, bound)).code).toBe("VALID");
    expect((await verify(verifier, holder, [scope])).code).toBe("VALID");
  });

  it("updateApiKey removing a scope → insufficient_scope", async () => {
    const key = await makeKey(["keys:read", "keys:write"]);
    expect((await verifyWarm(verifier, key.secret, ["keys:write"])).code).toBe("VALID");
    await owner.updateApiKey({ input: { id: key.id, scopes: ["keys:read"] } });
    expect((await verify(verifier, key.secret, ["keys:write"])).code).toBe("insufficient_scope");
  });

  it("rollApiKey with grace 0 → key_expired for the old key, VALID for the new one", async () => {
    const key = await makeKey();
    expect((await verifyWarm(verifier, key.secret)).code).toBe("VALID");
    const { rollApiKey } = await owner.rollApiKey({ input: { id: key.id, gracePeriodSeconds: 0 } });
    expect((await verify(verifier, key.secret)).code).toBe("key_expired");
    expect((await verify(verifier, rollApiKey.secret)).code).toBe("VALID");
  });
});

describe("a workspace that requires deploys: verification from its latest deployment", () => {
  let gated: string;
  /** A verifier key of the gated workspace: its own credential is read from the deployment too. */
  let gatedVerifier: KeywardClient;
  let version: number;
  let deployed: { id: string; secret: string };

  beforeAll(async () => {
    gated = (await owner.createWorkspace({ input: { name: "Gated", slug: freshSlug("cache-gated") } })).createWorkspace
      .id;
    await owner.setRequireDeploy({ input: { workspaceId: gated, enabled: true } });
    gatedVerifier = client((await makeKey(["keys:verify"], gated)).secret);
    deployed = await makeKey(["keys:read"], gated);
  });

  it("50 warm verifications of deployed, pending, revoked-pending and braked keys cost 0 queries", async () => {
    const revokedPending = await makeKey(["keys:read"], gated);
    const braked = await makeKey(["keys:read"], gated);
    version = (await owner.deployKeys({ input: { workspaceId: gated } })).deployKeys.version;
    const pending = await makeKey(["keys:read"], gated);
    await owner.revokeApiKey({ input: { id: revokedPending.id } });
    await owner.revokeApiKey({ input: { id: braked.id, immediate: true } });
    const cases: [string, string][] = [
      [deployed.secret, "VALID"],
      [pending.secret, "key_not_deployed"],
      [revokedPending.secret, "VALID"],
      [braked.secret, "invalid_api_key"],
    ];
    // Cold: each key, the workspace and the deployment's rows are read once.
    for (const [key] of cases) await verify(gatedVerifier, key);
    const { result, statements } = await counting(async () => {
      const seen: string[] = [];
      for (let i = 0; i < 50; i++) {
        const [key, expected] = cases[i % cases.length] as [string, string];
        const answer = await verify(gatedVerifier, key, i % 2 ? ["keys:read"] : []);
        const ok = answer.code === expected && answer.deploymentVersion === version;
        seen.push(ok ? "ok" : `${i}: ${answer.code} v${answer.deploymentVersion} instead of ${expected}`);
      }
      return seen;
    });
    expect(result.filter((r) => r !== "ok")).toEqual([]);
    expect(statements, statements.join("\n")).toEqual([]);
  });

  it("deployKeys and rollbackKeys are honoured by the very next verification", async () => {
    await verifyWarm(deployed.secret, ["keys:read"]);
    await owner.updateApiKey({ input: { id: deployed.id, scopes: [] } });
    expect((await verifyWarm(deployed.secret, ["keys:read"])).code).toBe("VALID");
    const next = (await owner.deployKeys({ input: { workspaceId: gated } })).deployKeys.version;
    expect(await verify(gatedVerifier, deployed.secret, ["keys:read"])).toMatchObject({
      code: "insufficient_scope",
      deploymentVersion: next,
    });
    await owner.rollbackKeys({ input: { workspaceId: gated, version } });
    expect(await verify(gatedVerifier, deployed.secret, ["keys:read"])).toMatchObject({
      code: "VALID",
      deploymentVersion: next + 1,
    });
  });

  /** Verifies twice and proves the second answer read nothing from the database. */
  async function verifyWarm(key: string, requiredScopes: string[]) {
    await verify(gatedVerifier, key, requiredScopes);
    const { result, statements } = await counting(() => verify(gatedVerifier, key, requiredScopes));
    expect(statements).toEqual([]);
    return result;
  }
});
