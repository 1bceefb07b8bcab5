import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { userOrSecretKey } from "../../server/auth/shield";
import { createPlatformAdmin } from "../../server/identity/accounts";
import { generatePlatformKey } from "../../server/platform/format";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// A platform key as the operator's verifier: with keys:verify it verifies keys of
// every workspace and environment, on the edge runner's unguarded path and without
// a database query once warm; with workspaces:read it reads any workspace; nothing
// else. Revoked or expired, it is refused on its very next use.

let app: TestApp;
let admin: KeywardClient;
let ws: { a: { id: string; slug: string }; b: { id: string; slug: string } };
const customer = {} as Record<"liveA" | "testB", { id: string; secret: string }>;

beforeAll(async () => {
  app = await startTestApp({}, { countQueries: true });
  const email = uniqueEmail("ops");
  const made = await createPlatformAdmin(app.db, { email, password: PASSWORD, name: "Ops" }, app.clock.now);
  if (!made.ok) throw new Error(made.error.message);
  admin = app.client((await app.client().signIn({ input: { email, password: PASSWORD } })).signIn.token);
  const workspace = async (name: string) => {
    const owner = await signUpUser(app, name);
    const { createWorkspace } = await owner.client.createWorkspace({ input: { name, slug: `${name}-${process.pid}` } });
    // Service scopes must name a service of the key's workspace.
    await owner.client.createService({ input: { workspaceId: createWorkspace.id, slug: "forms", name: "Forms" } });
    return { owner: owner.client, ...createWorkspace };
  };
  const a = await workspace("tenant-a");
  const b = await workspace("tenant-b");
  ws = { a, b };
  const key = async (owner: KeywardClient, workspaceId: string, environment: "LIVE" | "TEST") => {
    const { createApiKey } = await owner.createApiKey({
      input: { workspaceId, name: "customer", type: "SECRET", environment, scopes: ["service.forms.read"] },
    });
    return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
  };
  customer.liveA = await key(a.owner, a.id, "LIVE");
  customer.testB = await key(b.owner, b.id, "TEST");
});
afterAll(() => app.close());

async function platformKey(scopes: string[], expiresAt?: string) {
  const { createPlatformKey } = await admin.createPlatformKey({ input: { name: "verifier", scopes, expiresAt } });
  return {
    id: createPlatformKey.platformKey.id,
    secret: createPlatformKey.secret,
    client: app.client(createPlatformKey.secret),
  };
}

const verify = async (via: KeywardClient, key: string, requiredScopes: string[] = []) =>
  (await via.verifyApiKey({ input: { key, requiredScopes } })).verifyApiKey;

const restVerify = (secret: string, key: string) =>
  app.fetch("/v1/keys/verify", {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });

describe("keys:verify", () => {
  it("verifies keys of every workspace and both environments, over GraphQL and POST /v1/keys/verify", async () => {
    const p = await platformKey(["keys:verify"]);
    expect(await verify(p.client, customer.liveA.secret, ["service.forms.read"])).toMatchObject({
      code: "VALID",
      workspaceId: ws.a.id,
      environment: "LIVE",
    });
    expect(await verify(p.client, customer.testB.secret)).toMatchObject({
      code: "VALID",
      workspaceId: ws.b.id,
      environment: "TEST",
    });
    expect((await verify(p.client, customer.liveA.secret, ["keys:write"])).code).toBe("insufficient_scope");
    const response = await restVerify(p.secret, customer.testB.secret);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ valid: true, workspaceId: ws.b.id });
  });

  it("a platform key without keys:verify cannot use itself to probe other tenants' keys (insufficient_scope)", async () => {
    const reader = await platformKey(["workspaces:read"]);
    const error = await expectCode(
      reader.client.verifyApiKey({ input: { key: customer.liveA.secret } }),
      "insufficient_scope",
    );
    expect(error.status).toBe(403);
    const response = await restVerify(reader.secret, customer.liveA.secret);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("insufficient_scope");
  });

  it("answers from the runner's unguarded compiled path: the shield's rule never runs, and no SQL once warm", async () => {
    const p = await platformKey(["keys:verify"]);
    const rule = vi.spyOn(userOrSecretKey, "resolve");
    try {
      await verify(p.client, customer.liveA.secret);
      const { result, statements } = await app.counting(async () => {
        const codes: string[] = [];
        for (let i = 0; i < 20; i++) codes.push((await verify(p.client, customer.liveA.secret)).code);
        return codes;
      });
      expect(result).toEqual(Array(20).fill("VALID"));
      expect(statements, statements.join("\n")).toEqual([]);
      expect(rule).not.toHaveBeenCalled();
      // The control: a platform key the runner must not trust goes through the shield.
      const reader = await platformKey(["workspaces:read"]);
      await expectCode(reader.client.verifyApiKey({ input: { key: customer.liveA.secret } }), "insufficient_scope");
      expect(rule).toHaveBeenCalled();
    } finally {
      rule.mockRestore();
    }
  });

  it("an unknown platform key is invalid_api_key; a mistyped one invalid_key_format without a query", async () => {
    await expectCode(
      app.client(generatePlatformKey()).verifyApiKey({ input: { key: customer.liveA.secret } }),
      "invalid_api_key",
    );
    const p = await platformKey(["keys:verify"]);
    const mistyped = p.secret.slice(0, 10) + (p.secret[10] === "A" ? "B" : "A") + p.secret.slice(11);
    const { statements } = await app.counting(() =>
      expectCode(app.client(mistyped).verifyApiKey({ input: { key: customer.liveA.secret } }), "invalid_key_format"),
    );
    expect(statements).toEqual([]);
  });
});

describe("revoked or expired: refused on the very next use", () => {
  it("a warm platform key revoked by an admin is invalid_api_key at once, on GraphQL and REST", async () => {
    const p = await platformKey(["keys:verify"]);
    expect((await verify(p.client, customer.liveA.secret)).code).toBe("VALID");
    expect((await verify(p.client, customer.liveA.secret)).code).toBe("VALID");
    await admin.revokePlatformKey({ input: { id: p.id, reason: "leaked" } });
    const error = await expectCode(p.client.verifyApiKey({ input: { key: customer.liveA.secret } }), "invalid_api_key");
    expect(error.status).toBe(401);
    const response = await restVerify(p.secret, customer.liveA.secret);
    expect(response.status).toBe(401);
  });

  it("a platform key past its expiresAt is key_expired at once", async () => {
    const p = await platformKey(["keys:verify"], new Date(app.clock.now.getTime() + 60_000).toISOString());
    expect((await verify(p.client, customer.liveA.secret)).code).toBe("VALID");
    app.clock.advance(60_000);
    await expectCode(p.client.verifyApiKey({ input: { key: customer.liveA.secret } }), "key_expired");
  });
});

describe("workspaces:read, and nothing else", () => {
  it("reads any workspace by id or slug, without a role; a missing one is not_found", async () => {
    const p = await platformKey(["workspaces:read"]);
    expect((await p.client.workspace({ id: ws.a.id })).workspace).toMatchObject({ id: ws.a.id, viewerRole: null });
    expect((await p.client.workspace({ slug: ws.b.slug })).workspace).toMatchObject({ id: ws.b.id });
    await expectCode(p.client.workspace({ id: "00000000-0000-4000-8000-000000000000" }), "not_found");
  });

  it("keys:verify alone does not let it read workspaces (insufficient_scope)", async () => {
    const p = await platformKey(["keys:verify"]);
    await expectCode(p.client.workspace({ id: ws.a.id }), "insufficient_scope");
  });

  it("cannot list members, list or read keys, mint keys, flip the switch or read the audit log of a tenant", async () => {
    const p = await platformKey(["keys:verify", "workspaces:read"]);
    await expectCode(p.client.workspaceMembers({ id: ws.a.id }), "insufficient_scope");
    await expectCode(p.client.apiKeys({ workspaceId: ws.a.id, environment: "LIVE" }), "insufficient_scope");
    await expectCode(p.client.apiKey({ id: customer.liveA.id }), "insufficient_scope");
    // An id that does not exist answers the same: a platform key cannot probe key ids.
    await expectCode(p.client.apiKey({ id: "00000000-0000-4000-8000-000000000000" }), "insufficient_scope");
    const mint = { workspaceId: ws.a.id, name: "x", type: "SECRET" as const, environment: "LIVE" as const };
    await expectCode(p.client.createApiKey({ input: mint }), "insufficient_scope");
    await expectCode(p.client.revokeApiKey({ input: { id: customer.liveA.id } }), "insufficient_scope");
    await expectCode(
      p.client.setKeysEnabled({ input: { workspaceId: ws.a.id, enabled: false } }),
      "insufficient_scope",
    );
    await expectCode(p.client.auditEvents({ workspaceId: ws.a.id }), "insufficient_scope");
    await expectCode(
      p.client.createWorkspace({ input: { name: "x", slug: `x-${process.pid}` } }),
      "insufficient_permissions",
    );
    expect((await verify(admin, customer.liveA.secret)).code).toBe("VALID");
  });
});

describe("every use is recorded", () => {
  it("moves lastUsedAt and counts uses per hour, operation and outcome, written in batches", async () => {
    const p = await platformKey(["keys:verify", "workspaces:read"]);
    const hour = 3600_000;
    const h1 = Math.floor(app.clock.now.getTime() / hour) * hour + hour;
    app.clock.advance(h1 + 60_000 - app.clock.now.getTime());
    for (let i = 0; i < 3; i++) await verify(p.client, customer.liveA.secret);
    await verify(p.client, generatePlatformKey());
    await restVerify(p.secret, customer.testB.secret);
    await p.client.workspace({ id: ws.b.id });
    const lastUse = app.clock.now.toISOString();
    expect((await app.db.platformKey.findUniqueOrThrow({ where: { id: p.id } })).lastUsedAt).toBeNull();
    await app.flushUsage();

    const { platformKeys } = await admin.platformKeyUsage({
      from: new Date(h1).toISOString(),
      to: new Date(h1 + hour).toISOString(),
    });
    const mine = platformKeys.edges.find((e) => e.node.id === p.id)?.node.usage ?? [];
    expect(mine.map((u) => [u.operation, u.outcome, u.count])).toEqual([
      ["VERIFY", "VALID", 4],
      ["VERIFY", "invalid_key_format", 1],
      ["WORKSPACE", "VALID", 1],
    ]);
    const listed = await admin.platformKeys({});
    expect(listed.platformKeys.edges.find((e) => e.node.id === p.id)?.node.lastUsedAt).toBe(lastUse);
  });

  it("a usage window ending before it starts, or longer than 93 days, is validation_failed on to", async () => {
    const at = app.clock.now.getTime();
    const windows: [number, number][] = [
      [at, at - 1],
      [at, at + 94 * 24 * 3600_000],
    ];
    for (const [from, to] of windows) {
      const refused = await expectCode(
        admin.platformKeyUsage({ from: new Date(from).toISOString(), to: new Date(to).toISOString() }),
        "validation_failed",
      );
      expect(refused).toMatchObject({ field: "to", message: "to: must be after from, at most 93 days later" });
    }
  });
});
