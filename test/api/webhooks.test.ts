import { randomUUID } from "node:crypto";
import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Webhook endpoints as the API manages them: who may create, list, change and delete
// them, the secret shown once and stored sealed, the event vocabulary, tenancy and
// environments (another workspace's or environment's endpoint is not_found), and the
// SSRF guard at save time. Each refusal is named after the attack it stops.

let app: TestApp;
type Person = Awaited<ReturnType<typeof signUpUser>>;
let owner: Person;
let admin: Person;
let moderator: Person;
let member: Person;
let ownerB: Person;
let ws: { id: string };
let wsB: { id: string };

const URL_OK = "https://203.0.113.10/hooks";
const slug = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "owner");
  admin = await signUpUser(app, "admin");
  moderator = await signUpUser(app, "moderator");
  member = await signUpUser(app, "member");
  ownerB = await signUpUser(app, "owner-b");
  ws = (await owner.client.createWorkspace({ input: { name: "Hooks", slug: slug("hooks") } })).createWorkspace;
  for (const [person, role] of [
    [admin, "ADMIN"],
    [moderator, "MODERATOR"],
    [member, "MEMBER"],
  ] as const) {
    await owner.client.addMember({ input: { workspaceId: ws.id, email: person.email, role } });
  }
  wsB = (await ownerB.client.createWorkspace({ input: { name: "Other", slug: slug("other") } })).createWorkspace;
});
afterAll(() => app.close());

async function create(by: KeywardClient, input: Record<string, unknown> = {}) {
  const { createWebhookEndpoint } = await by.createWebhookEndpoint({
    input: { workspaceId: ws.id, environment: "LIVE", url: URL_OK, events: ["key.created"], ...input },
  });
  return createWebhookEndpoint;
}

async function keyWith(scopes: string[], environment: "LIVE" | "TEST" = "LIVE") {
  const { createApiKey } = await owner.client.createApiKey({
    input: { workspaceId: ws.id, name: "hooks key", type: "SECRET", environment, scopes },
  });
  return app.client(createApiKey.secret);
}

describe("creating, listing, changing and deleting endpoints", () => {
  it("an ADMIN creates an endpoint; the whsec_ secret is shown once and stored only sealed", async () => {
    const made = await create(admin.client, { description: "CRM sync", events: ["key.created", "key.revoked"] });
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(made.endpoint).toMatchObject({ url: URL_OK, enabled: true, description: "CRM sync", environment: "LIVE" });
    const row = await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id: made.endpoint.id } });
    expect(JSON.stringify(row)).not.toContain(made.secret.slice(6));
    expect(app.deps.box.open(row.sealedSecret)).toBe(made.secret);
    const { webhookEndpoints } = await owner.client.webhookEndpoints({ workspaceId: ws.id, environment: "LIVE" });
    expect(webhookEndpoints.map((e) => e.id)).toContain(made.endpoint.id);
    expect(JSON.stringify(webhookEndpoints)).not.toContain("whsec_");
  });

  it("lists only the environment asked for", async () => {
    const test = await create(owner.client, { environment: "TEST" });
    const live = await owner.client.webhookEndpoints({ workspaceId: ws.id, environment: "LIVE" });
    expect(live.webhookEndpoints.map((e) => e.id)).not.toContain(test.endpoint.id);
    const tests = await owner.client.webhookEndpoints({ workspaceId: ws.id, environment: "TEST" });
    expect(tests.webhookEndpoints.map((e) => e.id)).toEqual([test.endpoint.id]);
  });

  it("updates url, events, description and enabled, and deletes; each is audited", async () => {
    const { endpoint } = await create(owner.client);
    const { updateWebhookEndpoint } = await owner.client.updateWebhookEndpoint({
      input: { id: endpoint.id, url: "https://203.0.113.11/x", events: ["ping", "keys.toggled"], enabled: false },
    });
    expect(updateWebhookEndpoint).toMatchObject({ url: "https://203.0.113.11/x", events: ["ping", "keys.toggled"] });
    expect(updateWebhookEndpoint.enabled).toBe(false);
    expect((await owner.client.deleteWebhookEndpoint({ input: { id: endpoint.id } })).deleteWebhookEndpoint).toBe(true);
    expect(await app.db.webhookEndpoint.findUnique({ where: { id: endpoint.id } })).toBeNull();
    const actions = (
      await app.db.auditEvent.findMany({ where: { targetId: endpoint.id }, orderBy: { seq: "asc" } })
    ).map((e) => e.action);
    expect(actions).toEqual(["webhook_endpoint.create", "webhook_endpoint.update", "webhook_endpoint.delete"]);
  });

  it("a key holding webhooks:write manages endpoints of its own environment; webhooks:read lists", async () => {
    const writer = await keyWith(["webhooks:write"]);
    const made = await create(writer);
    const reader = await keyWith(["webhooks:read"]);
    const listed = await reader.webhookEndpoints({ workspaceId: ws.id, environment: "LIVE" });
    expect(listed.webhookEndpoints.map((e) => e.id)).toContain(made.endpoint.id);
  });
});

describe("refusals", () => {
  it("a MODERATOR cannot add an endpoint (it would read every key event)", async () => {
    await expectCode(create(moderator.client), "insufficient_permissions");
  });

  it("a key with only keys:write cannot add an endpoint", async () => {
    await expectCode(create(await keyWith(["keys:write"])), "insufficient_scope");
  });

  it("a webhooks:read key cannot rotate a secret to take over deliveries", async () => {
    const { endpoint } = await create(owner.client);
    await expectCode(
      (await keyWith(["webhooks:read"])).rotateWebhookSecret({ input: { id: endpoint.id } }),
      "insufficient_scope",
    );
  });

  it("a TEST key cannot add a LIVE endpoint, nor see or change one", async () => {
    const testKey = await keyWith(["webhooks:write", "webhooks:read"], "TEST");
    await expectCode(create(testKey), "insufficient_scope");
    await expectCode(testKey.webhookEndpoints({ workspaceId: ws.id, environment: "LIVE" }), "insufficient_scope");
    const { endpoint } = await create(owner.client);
    await expectCode(testKey.updateWebhookEndpoint({ input: { id: endpoint.id, enabled: false } }), "not_found");
  });

  it("another workspace's owner gets not_found for an endpoint, as for a made-up id", async () => {
    const { endpoint } = await create(owner.client);
    for (const id of [endpoint.id, randomUUID()]) {
      await expectCode(ownerB.client.updateWebhookEndpoint({ input: { id, enabled: false } }), "not_found");
      await expectCode(ownerB.client.deleteWebhookEndpoint({ input: { id } }), "not_found");
      await expectCode(ownerB.client.rotateWebhookSecret({ input: { id } }), "not_found");
      await expectCode(ownerB.client.sendTestWebhook({ input: { id } }), "not_found");
      await expectCode(ownerB.client.webhookDeliveries({ endpointId: id }), "not_found");
    }
    expect((await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).enabled).toBe(true);
    await expectCode(ownerB.client.webhookEndpoints({ workspaceId: ws.id, environment: "LIVE" }), "not_found");
    expect(wsB.id).not.toBe(ws.id);
  });

  it.each([
    ["an unknown event", { events: ["key.stolen"] }, "events"],
    ["no event", { events: [] }, "events"],
    ["a URL that is no URL", { url: "not a url" }, "url"],
    ["a file: URL", { url: "file:///etc/passwd" }, "url"],
    ["a URL with credentials", { url: "https://user:pw@203.0.113.10/" }, "url"],
    ["loopback", { url: "http://127.0.0.1:8080/" }, "url"],
    ["a private network", { url: "https://10.1.2.3/" }, "url"],
    ["cloud metadata", { url: "http://169.254.169.254/latest/meta-data/" }, "url"],
    ["CGNAT", { url: "https://100.64.0.1/" }, "url"],
    ["IPv6 loopback", { url: "https://[::1]/" }, "url"],
    ["IPv4-mapped IPv6 loopback", { url: "https://[::ffff:127.0.0.1]/" }, "url"],
    ["a host named localhost", { url: "http://localhost:4000/" }, "url"],
  ])("refuses an endpoint with %s (validation_failed)", async (_name, input, field) => {
    const before = await app.db.webhookEndpoint.count();
    const error = await expectCode(create(owner.client, input), "validation_failed");
    expect(error.field).toBe(field);
    expect(await app.db.webhookEndpoint.count()).toBe(before);
  });

  it("refuses changing an endpoint's URL to the metadata address", async () => {
    const { endpoint } = await create(owner.client);
    const error = await expectCode(
      owner.client.updateWebhookEndpoint({ input: { id: endpoint.id, url: "http://169.254.169.254/" } }),
      "validation_failed",
    );
    expect(error.field).toBe("url");
  });
});

describe("a MODERATOR or a MEMBER cannot manage webhooks (OWNER/ADMIN or webhooks:write only)", () => {
  const roles = () =>
    [
      ["MODERATOR", moderator],
      ["MEMBER", member],
    ] as const;

  /** An endpoint of the owner's with one delivery, and its row as it was. */
  async function target() {
    const { endpoint } = await create(owner.client, { events: ["key.revoked"] });
    const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: endpoint.id } });
    const row = await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    return { id: endpoint.id, deliveryId: sendTestWebhook.id, row };
  }

  it("cannot add an endpoint of their own to hear every key event", async () => {
    for (const [role, person] of roles()) {
      const before = await app.db.webhookEndpoint.count();
      await expectCode(create(person.client, { url: "https://203.0.113.66/steal" }), "insufficient_permissions");
      expect(await app.db.webhookEndpoint.count(), role).toBe(before);
    }
  });

  it("cannot point the owner's endpoint at their own server, nor switch it off or resubscribe it", async () => {
    const { id, row } = await target();
    for (const [role, person] of roles()) {
      const attacks = [
        { url: "https://203.0.113.66/steal" },
        { enabled: false },
        { events: ["ping"] },
        { description: "mine now" },
      ];
      for (const change of attacks) {
        await expectCode(person.client.updateWebhookEndpoint({ input: { id, ...change } }), "insufficient_permissions");
      }
      expect(await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id } }), role).toEqual(row);
    }
  });

  it("cannot rotate the signing secret to learn it, nor delete the endpoint to silence it", async () => {
    const { id, row } = await target();
    for (const [, person] of roles()) {
      await expectCode(person.client.rotateWebhookSecret({ input: { id } }), "insufficient_permissions");
      await expectCode(person.client.deleteWebhookEndpoint({ input: { id } }), "insufficient_permissions");
    }
    expect(await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id } })).toEqual(row);
  });

  it("cannot flood the receiver with test pings or redeliveries", async () => {
    const { id, deliveryId } = await target();
    const before = await app.db.webhookDelivery.count({ where: { endpointId: id } });
    for (const [, person] of roles()) {
      await expectCode(person.client.sendTestWebhook({ input: { id } }), "insufficient_permissions");
      await expectCode(person.client.redeliverWebhook({ input: { id: deliveryId } }), "insufficient_permissions");
    }
    expect(await app.db.webhookDelivery.count({ where: { endpointId: id } })).toBe(before);
    expect(await app.db.auditEvent.count({ where: { targetId: deliveryId } })).toBe(0);
  });

  it("cannot list the endpoints nor read what their deliveries carried", async () => {
    const { id } = await target();
    for (const [, person] of roles()) {
      await expectCode(
        person.client.webhookEndpoints({ workspaceId: ws.id, environment: "LIVE" }),
        "insufficient_permissions",
      );
      await expectCode(person.client.webhookDeliveries({ endpointId: id }), "insufficient_permissions");
    }
  });
});

describe("production", () => {
  it("refuses a plain-http URL when NODE_ENV=production", async () => {
    const prod = await startTestApp({ NODE_ENV: "production" });
    try {
      const boss = await signUpUser(prod, "prod");
      const w = (await boss.client.createWorkspace({ input: { name: "P", slug: slug("p") } })).createWorkspace;
      const input = { workspaceId: w.id, environment: "LIVE" as const, events: ["ping"] };
      const error = await expectCode(
        boss.client.createWebhookEndpoint({ input: { ...input, url: "http://203.0.113.10/" } }),
        "validation_failed",
      );
      expect(error.message).toMatch(/https/);
      await boss.client.createWebhookEndpoint({ input: { ...input, url: URL_OK } });
    } finally {
      await prod.close();
    }
  });
});
