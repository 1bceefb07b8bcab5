import { randomUUID } from "node:crypto";
import type { CreateApiKeyInput, KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SERVICES } from "../../server/services/services";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Services as the API manages them: who may create, list and switch them, the audit
// trail, tenancy (another workspace's service is not_found), and what keys may say
// about services: scopes that name only services of their own workspace, one bound
// service, publishable keys issued per service. Each refusal is named after the
// attack it stops.

let app: TestApp;
type Person = Awaited<ReturnType<typeof signUpUser>>;
let owner: Person;
let admin: Person;
let moderator: Person;
let member: Person;
let ownerB: Person;
let ws: { id: string };
let wsB: { id: string };
let forms: { id: string; slug: string };
let billing: { id: string; slug: string };
/** A service that only workspace B has. */
let onlyInB: { id: string; slug: string };

const slug = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "owner");
  admin = await signUpUser(app, "admin");
  moderator = await signUpUser(app, "moderator");
  member = await signUpUser(app, "member");
  ownerB = await signUpUser(app, "owner-b");
  ws = (await owner.client.createWorkspace({ input: { name: "Forms SaaS", slug: slug("forms-saas") } }))
    .createWorkspace;
  for (const [person, role] of [
    [admin, "ADMIN"],
    [moderator, "MODERATOR"],
    [member, "MEMBER"],
  ] as const) {
    await owner.client.addMember({ input: { workspaceId: ws.id, email: person.email, role } });
  }
  wsB = (await ownerB.client.createWorkspace({ input: { name: "Other", slug: slug("other") } })).createWorkspace;
  forms = (await owner.client.createService({ input: { workspaceId: ws.id, slug: "forms", name: "Forms" } }))
    .createService;
  billing = (await owner.client.createService({ input: { workspaceId: ws.id, slug: "billing", name: "Billing" } }))
    .createService;
  onlyInB = (await ownerB.client.createService({ input: { workspaceId: wsB.id, slug: "secret-b", name: "B only" } }))
    .createService;
});
afterAll(() => app.close());

async function makeKey(by: KeywardClient, input: Partial<CreateApiKeyInput> = {}) {
  const { createApiKey } = await by.createApiKey({
    input: { workspaceId: ws.id, name: "key", type: "SECRET", environment: "LIVE", scopes: [], ...input },
  });
  return { ...createApiKey.apiKey, secret: createApiKey.secret };
}

describe("creating and listing services", () => {
  it("an OWNER and an ADMIN create services; they start active and list by slug", async () => {
    const made = (await admin.client.createService({ input: { workspaceId: ws.id, slug: "workflows", name: "Flows" } }))
      .createService;
    expect(made).toMatchObject({ slug: "workflows", name: "Flows", active: true });
    const { services } = await member.client.services({ workspaceId: ws.id });
    expect(services.map((s) => s.slug)).toEqual(["billing", "forms", "workflows"]);
  });

  it("writes service.create to the audit log", async () => {
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id, first: 50 });
    const event = auditEvents.edges.map((e) => e.node).find((e) => e.targetId === forms.id);
    expect(event).toMatchObject({ action: "service.create", targetType: "service", data: { slug: "forms" } });
  });

  it("a MODERATOR cannot create a service (it would widen the scope vocabulary)", async () => {
    await expectCode(
      moderator.client.createService({ input: { workspaceId: ws.id, slug: "mine", name: "Mine" } }),
      "insufficient_permissions",
    );
  });

  it("a secret key holding workspace:write cannot create a service (services span test and live)", async () => {
    const key = await makeKey(owner.client, { scopes: ["workspace:write", "workspace:read"] });
    const error = await expectCode(
      app.client(key.secret).createService({ input: { workspaceId: ws.id, slug: "by-key", name: "K" } }),
      "insufficient_scope",
    );
    expect(error.message).toContain("workspace member");
  });

  it("a second service with a taken slug is refused, naming slug", async () => {
    const error = await expectCode(
      owner.client.createService({ input: { workspaceId: ws.id, slug: "forms", name: "Again" } }),
      "validation_failed",
    );
    expect(error.field).toBe("slug");
  });

  it.each(["Forms", "forms.read", "-forms", "forms-", "a b", "", "x".repeat(41), "service.forms"])(
    "a slug that could not be a scope's service (%j) is refused",
    async (bad) => {
      const error = await expectCode(
        owner.client.createService({ input: { workspaceId: ws.id, slug: bad, name: "Bad" } }),
        "validation_failed",
      );
      expect(error.field).toBe("slug");
    },
  );

  it(`a workspace cannot grow past ${MAX_SERVICES} services (each one's switch lives in every instance's cache)`, async () => {
    const full = (await owner.client.createWorkspace({ input: { name: "Full", slug: slug("full") } })).createWorkspace;
    await app.db.service.createMany({
      data: Array.from({ length: MAX_SERVICES }, (_, i) => ({ workspaceId: full.id, slug: `s${i}`, name: `S${i}` })),
    });
    const error = await expectCode(
      owner.client.createService({ input: { workspaceId: full.id, slug: "one-more", name: "One more" } }),
      "validation_failed",
    );
    expect(error.message).toBe(`slug: a workspace has at most ${MAX_SERVICES} services`);
    expect(await app.db.service.count({ where: { workspaceId: full.id } })).toBe(MAX_SERVICES);
  });

  it("another workspace's owner listing or creating services here gets not_found", async () => {
    await expectCode(ownerB.client.services({ workspaceId: ws.id }), "not_found");
    await expectCode(
      ownerB.client.createService({ input: { workspaceId: ws.id, slug: "planted", name: "P" } }),
      "not_found",
    );
  });
});

describe("setServiceActive", () => {
  it("an ADMIN switches a service off and on; each change is audited", async () => {
    const flip = (await owner.client.createService({ input: { workspaceId: ws.id, slug: "flip", name: "Flip" } }))
      .createService;
    expect((await admin.client.setServiceActive({ input: { id: flip.id, active: false } })).setServiceActive).toEqual({
      ...flip,
      active: false,
    });
    expect(
      (await owner.client.setServiceActive({ input: { id: flip.id, active: true } })).setServiceActive.active,
    ).toBe(true);
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id, first: 10 });
    const actions = auditEvents.edges.map((e) => e.node).filter((e) => e.targetId === flip.id);
    expect(actions.map((e) => e.action)).toEqual(["service.activate", "service.deactivate", "service.create"]);
    expect(actions[1]).toMatchObject({ actorId: admin.user.id, data: { slug: "flip", wasActive: true } });
  });

  it("a MODERATOR cannot switch a service off (that is a billing decision)", async () => {
    await expectCode(
      moderator.client.setServiceActive({ input: { id: forms.id, active: false } }),
      "insufficient_permissions",
    );
    expect((await app.db.service.findUniqueOrThrow({ where: { id: forms.id } })).active).toBe(true);
  });

  it("a secret key holding workspace:write cannot switch a service off", async () => {
    const key = await makeKey(owner.client, { scopes: ["workspace:write"] });
    await expectCode(
      app.client(key.secret).setServiceActive({ input: { id: forms.id, active: false } }),
      "insufficient_scope",
    );
  });

  it("another workspace's owner switching this workspace's service gets not_found, like a missing id", async () => {
    const foreign = await expectCode(
      ownerB.client.setServiceActive({ input: { id: forms.id, active: false } }),
      "not_found",
    );
    const missing = await expectCode(
      ownerB.client.setServiceActive({ input: { id: randomUUID(), active: false } }),
      "not_found",
    );
    const malformed = await expectCode(
      ownerB.client.setServiceActive({ input: { id: "forms", active: false } }),
      "not_found",
    );
    expect([foreign.message, foreign.field]).toEqual([missing.message, missing.field]);
    expect([malformed.message, malformed.field]).toEqual([missing.message, missing.field]);
    expect((await app.db.service.findUniqueOrThrow({ where: { id: forms.id } })).active).toBe(true);
  });

  it("a key of another workspace switching this workspace's service gets not_found", async () => {
    const { createApiKey } = await ownerB.client.createApiKey({
      input: { workspaceId: wsB.id, name: "b", type: "SECRET", environment: "LIVE", scopes: ["workspace:write"] },
    });
    await expectCode(
      app.client(createApiKey.secret).setServiceActive({ input: { id: forms.id, active: false } }),
      "not_found",
    );
  });
});

describe("scopes name only this workspace's services", () => {
  it("keys get the scopes of services that exist", async () => {
    const key = await makeKey(owner.client, { scopes: ["service.forms.read", "service.billing.charge"] });
    expect(key.scopes).toEqual(["service.forms.read", "service.billing.charge"]);
  });

  it("a scope naming a service that does not exist is refused, naming scopes", async () => {
    const error = await expectCode(makeKey(owner.client, { scopes: ["service.ghost.read"] }), "validation_failed");
    expect(error.field).toBe("scopes");
    expect(error.message).toBe('scopes: this workspace has no service "ghost"; create it with createService first');
  });

  it("a scope naming another workspace's service is refused exactly like a missing one", async () => {
    const error = await expectCode(
      makeKey(owner.client, { scopes: [`service.${onlyInB.slug}.read`] }),
      "validation_failed",
    );
    expect(error.message).toBe(
      `scopes: this workspace has no service "${onlyInB.slug}"; create it with createService first`,
    );
  });

  it("updateApiKey cannot add a scope of a missing service either", async () => {
    const key = await makeKey(owner.client, { scopes: ["service.forms.read"] });
    const error = await expectCode(
      owner.client.updateApiKey({ input: { id: key.id, scopes: ["service.forms.read", "service.ghost.write"] } }),
      "validation_failed",
    );
    expect(error.field).toBe("scopes");
    expect((await owner.client.apiKey({ id: key.id })).apiKey.scopes).toEqual(["service.forms.read"]);
  });
});

describe("keys bound to a service", () => {
  it("a key is bound with serviceId, and a roll keeps the binding", async () => {
    const key = await makeKey(owner.client, { serviceId: forms.id, scopes: ["service.forms.write"] });
    expect(key.serviceId).toBe(forms.id);
    const { rollApiKey } = await owner.client.rollApiKey({ input: { id: key.id, gracePeriodSeconds: 0 } });
    expect(rollApiKey.apiKey.serviceId).toBe(forms.id);
  });

  it("binding a key to another workspace's service answers not_found on serviceId", async () => {
    const foreign = await expectCode(makeKey(owner.client, { serviceId: onlyInB.id }), "not_found");
    const missing = await expectCode(makeKey(owner.client, { serviceId: randomUUID() }), "not_found");
    expect(foreign.field).toBe("serviceId");
    expect([foreign.message, foreign.field]).toEqual([missing.message, missing.field]);
  });

  it("a key bound to forms cannot also carry billing's scopes (it would outlive billing's switch)", async () => {
    const error = await expectCode(
      makeKey(owner.client, { serviceId: forms.id, scopes: ["service.forms.read", "service.billing.read"] }),
      "validation_failed",
    );
    expect(error.field).toBe("scopes");
    const key = await makeKey(owner.client, { serviceId: forms.id, scopes: ["service.forms.read"] });
    await expectCode(
      owner.client.updateApiKey({ input: { id: key.id, scopes: ["service.billing.read"] } }),
      "validation_failed",
    );
  });

  it("a key bound to forms cannot mint an unbound key or one bound elsewhere; what it mints is bound to forms", async () => {
    const bound = await makeKey(owner.client, { serviceId: forms.id, scopes: ["keys:write", "service.forms.read"] });
    const client = app.client(bound.secret);
    const error = await expectCode(makeKey(client, { serviceId: billing.id }), "insufficient_permissions");
    expect(error.field).toBe("serviceId");
    const minted = await makeKey(client, { scopes: ["service.forms.read"] });
    expect(minted.serviceId).toBe(forms.id);
  });
});

describe("publishable keys are issued per service", () => {
  const pk = { type: "PUBLISHABLE" as const, allowedOrigins: ["https://forms.example.com"] };

  it("a publishable key reaching a service is bound to it", async () => {
    const key = await makeKey(owner.client, { ...pk, serviceId: forms.id, scopes: ["service.forms.read"] });
    expect(key).toMatchObject({ type: "PUBLISHABLE", serviceId: forms.id, scopes: ["service.forms.read"] });
  });

  it("a publishable key with service scopes but no service is refused, naming serviceId", async () => {
    const error = await expectCode(
      makeKey(owner.client, { ...pk, scopes: ["service.forms.read"] }),
      "validation_failed",
    );
    expect(error.field).toBe("serviceId");
  });

  it("a publishable key cannot span two services from one browser page", async () => {
    const error = await expectCode(
      makeKey(owner.client, { ...pk, serviceId: forms.id, scopes: ["service.forms.read", "service.billing.read"] }),
      "validation_failed",
    );
    expect(error.field).toBe("scopes");
  });

  it("a publishable key without service scopes needs no service", async () => {
    expect((await makeKey(owner.client, { ...pk, scopes: ["keys:read"] })).serviceId).toBeNull();
  });
});
