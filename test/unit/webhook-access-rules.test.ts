import { describe, expect, it, vi } from "vitest";
import type { WorkspaceCaller } from "../../server/auth/access";
import type { Principal } from "../../server/auth/principal";
import { checkEnvironment, requireWebhookDelivery, requireWebhookEndpoint } from "../../server/auth/webhook-access";
import type { Context } from "../../server/context";
import type {
  ApiKey,
  Membership,
  Role,
  User,
  WebhookDelivery,
  WebhookEndpoint,
  Workspace,
} from "../../server/generated/prisma/client";

// Who reaches a webhook endpoint or delivery by id (server/auth/webhook-access.ts),
// without the shield or a database: every refusal asserted whole, and the lookups an
// unauthorised caller must not cause checked, so ids cannot be probed.

const A = "11111111-1111-4111-8111-111111111111";
const B = "22222222-2222-4222-8222-222222222222";
const ENDPOINT_A = "33333333-3333-4333-8333-333333333333";
const ENDPOINT_B = "44444444-4444-4444-8444-444444444444";
const DELIVERY_A = "55555555-5555-4555-8555-555555555555";
const MADE_UP = "66666666-6666-4666-8666-666666666666";

const endpoints = [
  { id: ENDPOINT_A, workspaceId: A, environment: "LIVE" },
  { id: ENDPOINT_B, workspaceId: B, environment: "LIVE" },
] as WebhookEndpoint[];
const deliveries = [{ id: DELIVERY_A, endpointId: ENDPOINT_A }] as WebhookDelivery[];
const workspaces = [
  { id: A, slug: "acme" },
  { id: B, slug: "bolt" },
] as Workspace[];
const ada = { id: "u-ada", isPlatformAdmin: false } as User;

function context(principal: Principal, roles: Record<string, Role> = {}) {
  const db = {
    webhookEndpoint: {
      findUnique: vi.fn(
        async ({ where }: { where: { id: string } }) => endpoints.find((e) => e.id === where.id) ?? null,
      ),
    },
    webhookDelivery: {
      findUnique: vi.fn(
        async ({ where }: { where: { id: string } }) => deliveries.find((d) => d.id === where.id) ?? null,
      ),
    },
  };
  const loaders = {
    workspace: { load: vi.fn(async (id: string) => workspaces.find((w) => w.id === id) ?? null) },
    workspaceBySlug: { load: vi.fn(async () => null) },
    membership: { load: vi.fn(async (pair: string) => (roles[pair] ? ({ role: roles[pair] } as Membership) : null)) },
  };
  return { principal, db, loaders, ip: "203.0.113.7" } as unknown as Context & { db: typeof db };
}

const asUser = (user: User): Principal => ({ kind: "user", user, sessionId: "s-1" });
const asKey = (environment: "LIVE" | "TEST"): Principal => ({
  kind: "key",
  key: {
    id: "k-1",
    type: "SECRET",
    scopes: ["webhooks:read", "webhooks:write"],
    environment,
    workspaceId: A,
  } as ApiKey,
  workspace: { id: A, slug: "acme", keysEnabled: true } as Extract<Principal, { kind: "key" }>["workspace"],
});
const refusal = (code: string, message: string, field?: string) => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});
const signInFirst = refusal(
  "authentication_required",
  "Sign in first: send `Authorization: Bearer <session token or API key>`.",
);
const noEndpoint = refusal("not_found", "No such webhook endpoint.", "id");
const noDelivery = refusal("not_found", "No such webhook delivery.", "id");

describe("requireWebhookEndpoint", () => {
  it("an ADMIN of its workspace gets the endpoint", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "ADMIN" });
    expect(await requireWebhookEndpoint(ctx, ENDPOINT_A, "webhooks:write")).toMatchObject({
      ok: true,
      value: { endpoint: endpoints[0], caller: { role: "ADMIN" } },
    });
  });

  it("attack: an anonymous caller probes endpoint ids — the same answer for a real one and a made-up one, before any lookup", async () => {
    for (const principal of [{ kind: "anonymous" } as const]) {
      const ctx = context(principal);
      expect(await requireWebhookEndpoint(ctx, ENDPOINT_A, "webhooks:read")).toEqual(signInFirst);
      expect(await requireWebhookEndpoint(ctx, MADE_UP, "webhooks:read")).toEqual(signInFirst);
      expect(ctx.db.webhookEndpoint.findUnique).not.toHaveBeenCalled();
    }
    const failure = { code: "invalid_api_key" as const, message: "Unknown API key." };
    const bad = context({ kind: "invalid", failure });
    expect(await requireWebhookEndpoint(bad, MADE_UP, "webhooks:read")).toEqual({ ok: false, error: failure });
    expect(bad.db.webhookEndpoint.findUnique).not.toHaveBeenCalled();
  });

  it("another workspace's endpoint looks like a missing one; a role too low is told so", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MODERATOR" });
    expect(await requireWebhookEndpoint(ctx, ENDPOINT_B, "webhooks:read")).toEqual(noEndpoint);
    expect(await requireWebhookEndpoint(ctx, MADE_UP, "webhooks:read")).toEqual(noEndpoint);
    expect(await requireWebhookEndpoint(ctx, ENDPOINT_A, "webhooks:read")).toEqual(
      refusal("insufficient_permissions", "Your role (MODERATOR) does not allow webhooks:read in this workspace."),
    );
  });

  it("a key reaches only its own workspace's endpoints of its own environment", async () => {
    expect(await requireWebhookEndpoint(context(asKey("LIVE")), ENDPOINT_A, "webhooks:write")).toMatchObject({
      ok: true,
    });
    expect(await requireWebhookEndpoint(context(asKey("LIVE")), ENDPOINT_B, "webhooks:write")).toEqual(noEndpoint);
    expect(await requireWebhookEndpoint(context(asKey("TEST")), ENDPOINT_A, "webhooks:write")).toEqual(noEndpoint);
  });
});

describe("requireWebhookDelivery", () => {
  it("through its endpoint's rule: the delivery and the caller", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "OWNER" });
    expect(await requireWebhookDelivery(ctx, DELIVERY_A, "webhooks:write")).toMatchObject({
      ok: true,
      value: { delivery: deliveries[0], endpoint: endpoints[0], caller: { role: "OWNER" } },
    });
  });

  it("a missing delivery and another workspace's both answer not_found as a delivery", async () => {
    expect(
      await requireWebhookDelivery(context(asUser(ada), { [`u-ada:${A}`]: "OWNER" }), MADE_UP, "webhooks:read"),
    ).toEqual(noDelivery);
    expect(
      await requireWebhookDelivery(context(asUser(ada), { [`u-ada:${B}`]: "OWNER" }), DELIVERY_A, "webhooks:read"),
    ).toEqual(noDelivery);
  });

  it("other refusals pass through unchanged", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MEMBER" });
    expect(await requireWebhookDelivery(ctx, DELIVERY_A, "webhooks:write")).toEqual(
      refusal("insufficient_permissions", "Your role (MEMBER) does not allow webhooks:write in this workspace."),
    );
    expect(await requireWebhookDelivery(context({ kind: "anonymous" }), DELIVERY_A, "webhooks:read")).toEqual(
      signInFirst,
    );
  });
});

describe("checkEnvironment", () => {
  it("a key manages webhooks of its own environment only; a person manages both", () => {
    const key = { environment: "TEST" } as WorkspaceCaller;
    expect(checkEnvironment(key, "TEST")).toEqual({ ok: true, value: true });
    expect(checkEnvironment(key, "LIVE")).toEqual(
      refusal("insufficient_scope", "This TEST key cannot manage LIVE webhooks.", "environment"),
    );
    const person = { environment: null } as WorkspaceCaller;
    expect(checkEnvironment(person, "LIVE")).toEqual({ ok: true, value: true });
  });
});
