import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Privilege edges of keys. A publishable key lives in a browser and its Origin
// header is forged by any curl, so it may hold only keys:read and service reads:
// never members, audit or workspace scopes, and rows saved with them before this
// rule grant nothing. A key cannot loosen its own limits, scopes, allowlists or
// expiry, and cannot walk around that through a sibling key it makes or updates.

const ORIGIN = "https://app.example.com";

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let ws: { id: string };

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "privileges-owner");
  ws = (await owner.client.createWorkspace({ input: { name: "Privileges", slug: `privileges-${process.pid}` } }))
    .createWorkspace;
});
afterAll(() => app.close());

async function makeKey(
  client: KeywardClient,
  options: {
    type?: "SECRET" | "PUBLISHABLE";
    scopes?: string[];
    rateLimit?: { limit: number; windowSeconds: number };
    serviceId?: string;
  } = {},
) {
  const type = options.type ?? "SECRET";
  const { createApiKey } = await client.createApiKey({
    input: {
      workspaceId: ws.id,
      name: "privileges",
      type,
      environment: "LIVE",
      scopes: options.scopes ?? ["keys:read", "keys:write"],
      allowedOrigins: type === "PUBLISHABLE" ? [ORIGIN] : undefined,
      rateLimit: options.rateLimit,
      serviceId: options.serviceId,
    },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

const keyRow = (id: string) => app.db.apiKey.findUniqueOrThrow({ where: { id } });

describe("a publishable key cannot be given member, audit or workspace scopes", () => {
  it.each(["members:read", "audit:read", "workspace:read"])(
    "createApiKey for a publishable key with %s is refused (validation_failed on scopes)",
    async (scope) => {
      const before = await app.db.apiKey.count();
      const error = await expectCode(
        owner.client.createApiKey({
          input: {
            workspaceId: ws.id,
            name: "browser",
            type: "PUBLISHABLE",
            environment: "LIVE",
            scopes: ["keys:read", scope],
            allowedOrigins: [ORIGIN],
          },
        }),
        "validation_failed",
      );
      expect(error.field).toBe("scopes");
      expect(await app.db.apiKey.count()).toBe(before);
    },
  );

  it.each(["members:read", "audit:read", "workspace:read"])(
    "updateApiKey widening a publishable key to %s is refused (validation_failed on scopes)",
    async (scope) => {
      const pk = await makeKey(owner.client, { type: "PUBLISHABLE", scopes: ["keys:read"] });
      const error = await expectCode(
        owner.client.updateApiKey({ input: { id: pk.id, scopes: ["keys:read", scope] } }),
        "validation_failed",
      );
      expect(error.field).toBe("scopes");
      expect((await keyRow(pk.id)).scopes).toEqual(["keys:read"]);
    },
  );

  it("control: keys:read and service reads are still allowed on a publishable key", async () => {
    const { createService: forms } = await owner.client.createService({
      input: { workspaceId: ws.id, slug: "forms", name: "Forms" },
    });
    const pk = await makeKey(owner.client, {
      type: "PUBLISHABLE",
      scopes: ["keys:read", "service.forms.read"],
      serviceId: forms.id,
    });
    expect((await keyRow(pk.id)).scopes).toEqual(["keys:read", "service.forms.read"]);
  });
});

describe("a publishable key saved with forbidden scopes before the rule grants nothing", () => {
  let pk: { id: string; secret: string };
  let browser: KeywardClient;

  beforeAll(async () => {
    pk = await makeKey(owner.client, { type: "PUBLISHABLE", scopes: ["keys:read"] });
    // As an old row would be: written straight to the database, past today's input rules.
    await app.db.apiKey.update({
      where: { id: pk.id },
      data: { scopes: ["keys:read", "members:read", "audit:read", "workspace:read"] },
    });
    // A forged Origin header is all curl needs to pass the origin check.
    browser = app.client(pk.secret, { origin: ORIGIN });
  });

  it("reading member emails through apiKey → workspace → members with a forged Origin is refused", async () => {
    const response = await app.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${pk.secret}`, origin: ORIGIN },
      body: JSON.stringify({
        query: `{ apiKey(id: "${pk.id}") { workspace { members { user { email } } } } }`,
      }),
    });
    const body = (await response.json()) as { errors?: { extensions: { code: string } }[]; data: unknown };
    expect(body.errors?.map((e) => e.extensions.code)).toEqual(["insufficient_scope"]);
    expect(JSON.stringify(body)).not.toContain(owner.email);
  });

  it("reading the audit log (and its IP addresses) with it is refused (insufficient_scope)", async () => {
    await expectCode(browser.auditEvents({ workspaceId: ws.id }), "insufficient_scope");
  });

  it("verifyApiKey requiring members:read of it answers insufficient_scope, and lists only what it holds", async () => {
    const { verifyApiKey } = await owner.client.verifyApiKey({
      input: { key: pk.secret, origin: ORIGIN, requiredScopes: ["members:read"] },
    });
    expect(verifyApiKey.code).toBe("insufficient_scope");
    expect(verifyApiKey.scopes).toEqual(["keys:read"]);
    const { apiKey } = await owner.client.apiKey({ id: pk.id });
    expect(apiKey.scopes).toEqual(["keys:read"]);
  });

  it("rolling it does not carry the forbidden scopes into the new key", async () => {
    const { rollApiKey } = await owner.client.rollApiKey({ input: { id: pk.id, gracePeriodSeconds: 60 } });
    expect((await keyRow(rollApiKey.apiKey.id)).scopes).toEqual(["keys:read"]);
  });

  it("control: the keys:read it does hold still works", async () => {
    const { apiKeys } = await browser.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(apiKeys.totalCount).toBeGreaterThan(0);
  });
});

describe("a key cannot loosen its own limits", () => {
  let self: { id: string; secret: string };
  let client: KeywardClient;

  beforeAll(async () => {
    self = await makeKey(owner.client, { rateLimit: { limit: 50, windowSeconds: 60 } });
    client = app.client(self.secret);
  });

  it.each([
    ["rateLimit", { rateLimit: { limit: 1_000_000, windowSeconds: 1 } }],
    ["rateLimit", { rateLimit: { limit: 10, windowSeconds: 60 } }],
    ["scopes", { scopes: ["keys:read"] }],
    ["expiresAt", { expiresAt: new Date(Date.now() + 86_400_000).toISOString() }],
    ["allowedIps", { allowedIps: ["203.0.113.0/24"] }],
  ])("updateApiKey of itself changing %s is refused (insufficient_permissions)", async (field, change) => {
    const before = await keyRow(self.id);
    const error = await expectCode(
      client.updateApiKey({ input: { id: self.id, ...change } }),
      "insufficient_permissions",
    );
    expect(error.field).toBe(field);
    expect(await keyRow(self.id)).toEqual(before);
  });

  it("control: it may rename itself and change its metadata", async () => {
    const { updateApiKey } = await client.updateApiKey({
      input: { id: self.id, name: "renamed by itself", metadata: { team: "web" } },
    });
    expect(updateApiKey).toMatchObject({ name: "renamed by itself", metadata: { team: "web" } });
  });
});

describe("a key cannot walk around its own limit through another key", () => {
  let caller: KeywardClient;

  beforeAll(async () => {
    const slow = await makeKey(owner.client, { rateLimit: { limit: 50, windowSeconds: 60 } });
    caller = app.client(slow.secret);
  });

  it.each([
    ["a larger limit", { limit: 1_000_000, windowSeconds: 1 }],
    ["the same limit over a shorter window", { limit: 50, windowSeconds: 1 }],
    ["the default secret limit, 1000 an hour", undefined],
  ])("creating a key with %s is refused (insufficient_permissions on rateLimit)", async (_label, rateLimit) => {
    const before = await app.db.apiKey.count();
    const error = await expectCode(
      caller.createApiKey({
        input: { workspaceId: ws.id, name: "faster", type: "SECRET", environment: "LIVE", scopes: [], rateLimit },
      }),
      "insufficient_permissions",
    );
    expect(error.field).toBe("rateLimit");
    expect(await app.db.apiKey.count()).toBe(before);
  });

  it("raising a sibling key's limit past its own is refused (insufficient_permissions)", async () => {
    const sibling = await makeKey(owner.client, { rateLimit: { limit: 10, windowSeconds: 60 } });
    const error = await expectCode(
      caller.updateApiKey({ input: { id: sibling.id, rateLimit: { limit: 1_000_000, windowSeconds: 1 } } }),
      "insufficient_permissions",
    );
    expect(error.field).toBe("rateLimit");
    expect((await keyRow(sibling.id)).rateLimitLimit).toBe(10);
  });

  it("rolling a faster key (to learn its new secret) is refused (insufficient_permissions)", async () => {
    const fast = await makeKey(owner.client, { rateLimit: { limit: 1_000_000, windowSeconds: 1 } });
    await expectCode(caller.rollApiKey({ input: { id: fast.id, gracePeriodSeconds: 0 } }), "insufficient_permissions");
    expect(await app.db.apiKey.count({ where: { rolledFromId: fast.id } })).toBe(0);
  });

  it("control: a key no faster than the caller is made, and the caller may roll and revoke itself", async () => {
    const { createApiKey } = await caller.createApiKey({
      input: {
        workspaceId: ws.id,
        name: "as slow",
        type: "SECRET",
        environment: "LIVE",
        scopes: ["keys:read"],
        rateLimit: { limit: 25, windowSeconds: 60 },
      },
    });
    expect(createApiKey.apiKey.rateLimit).toEqual({ limit: 25, windowSeconds: 60 });
    const selfKey = await makeKey(owner.client, { rateLimit: { limit: 50, windowSeconds: 60 } });
    const selfClient = app.client(selfKey.secret);
    const { rollApiKey } = await selfClient.rollApiKey({ input: { id: selfKey.id, gracePeriodSeconds: 60 } });
    expect(rollApiKey.apiKey.rolledFromId).toBe(selfKey.id);
    const { revokeApiKey } = await selfClient.revokeApiKey({ input: { id: selfKey.id, reason: "rotated" } });
    expect(revokeApiKey.status).toBe("REVOKED");
  });
});
