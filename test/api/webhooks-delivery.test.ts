import { randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_ATTEMPTS, WebhookWorker } from "../../server/webhooks/worker";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";
import { type Received, type Receiver, startReceiver } from "../helpers/receiver";

// Delivery as a receiver sees it: real HTTP to a local receiver, every request
// verified with the standardwebhooks library's own verifier, secret rotation with
// its 7-day overlap, the outbox written with the change, retries with backoff,
// attempts recorded, redelivery, and the timeout.

let app: TestApp;
let receiver: Receiver;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let ws: { id: string };

beforeAll(async () => {
  app = await startTestApp({
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
    KEYWARD_WEBHOOK_TIMEOUT_MS: "500",
    // The tests drive the worker (deliverWebhooks) and its clock themselves.
    KEYWARD_WEBHOOK_INTERVAL_MS: "3600000",
  });
  receiver = await startReceiver();
  owner = await signUpUser(app, "owner");
  ws = (
    await owner.client.createWorkspace({
      input: { name: "Deliveries", slug: `deliveries-${randomUUID().slice(0, 8)}` },
    })
  ).createWorkspace;
});
afterAll(async () => {
  await app.close();
  await receiver.close();
});
afterEach(() => {
  receiver.received.length = 0;
  Object.assign(receiver.answer, { status: 200, body: "ok", delayMs: 0, stall: false });
});

/** An endpoint with its own path on the receiver; `received()` is what reached it. */
async function endpoint(events: string[], environment: "LIVE" | "TEST" = "LIVE") {
  const path = `/hooks/${randomUUID()}`;
  const { createWebhookEndpoint } = await owner.client.createWebhookEndpoint({
    input: { workspaceId: ws.id, environment, url: `${receiver.url}${path}`, events },
  });
  const received = () => receiver.received.filter((r) => r.path === path);
  return { id: createWebhookEndpoint.endpoint.id, secret: createWebhookEndpoint.secret, received };
}

/** What the receiver does: verify with the library, at the server's time. */
function verify(secret: string, request: Received): { type: string; data: Record<string, unknown> } {
  vi.useFakeTimers({ toFake: ["Date"], now: app.clock.now });
  try {
    return new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as {
      type: string;
      data: Record<string, unknown>;
    };
  } finally {
    vi.useRealTimers();
  }
}

describe("signatures (Standard Webhooks)", () => {
  it("a test ping arrives with webhook-id, webhook-timestamp and a v1 signature the library verifies", async () => {
    const hook = await endpoint(["key.created"]);
    const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: hook.id } });
    expect(sendTestWebhook).toMatchObject({ status: "PENDING", eventType: "ping", attemptCount: 0 });
    expect(await app.deliverWebhooks()).toBeGreaterThanOrEqual(1);
    const [request] = hook.received();
    if (!request) throw new Error("nothing arrived");
    expect(request.headers["webhook-id"]).toBe(sendTestWebhook.eventId);
    expect(request.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verify(hook.secret, request)).toMatchObject({ type: "ping", data: { endpointId: hook.id } });
    const { webhookDeliveries } = await owner.client.webhookDeliveries({ endpointId: hook.id });
    expect(webhookDeliveries[0]).toMatchObject({ id: sendTestWebhook.id, status: "SUCCEEDED", attemptCount: 1 });
    expect(webhookDeliveries[0]?.attempts).toEqual([
      expect.objectContaining({ statusCode: 200, response: "ok", latencyMs: expect.any(Number) }),
    ]);
  });

  it("a forged or tampered delivery does not verify (the receiver's check is real)", async () => {
    const hook = await endpoint(["ping"]);
    await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    const [request] = hook.received();
    if (!request) throw new Error("nothing arrived");
    expect(() => verify(hook.secret, { ...request, body: request.body.replace("ping", "pong") })).toThrow();
    expect(() => verify(`whsec_${Buffer.alloc(32, 1).toString("base64")}`, request)).toThrow();
  });

  it("after rotation both secrets verify for 7 days, then only the new one", async () => {
    const hook = await endpoint(["ping"]);
    const { rotateWebhookSecret } = await owner.client.rotateWebhookSecret({ input: { id: hook.id } });
    const fresh = rotateWebhookSecret.secret;
    expect(fresh).not.toBe(hook.secret);
    expect(rotateWebhookSecret.endpoint.previousSecretExpiresAt).toBe(
      new Date(app.clock.now.getTime() + 7 * 24 * 3600_000).toISOString(),
    );
    await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    const [during] = hook.received();
    if (!during) throw new Error("nothing arrived");
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verify(hook.secret, during).type).toBe("ping");
    expect(verify(fresh, during).type).toBe("ping");

    app.clock.advance(7 * 24 * 3600_000 + 60_000);
    receiver.received.length = 0;
    await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    const [after] = hook.received();
    if (!after) throw new Error("nothing arrived");
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verify(fresh, after).type).toBe("ping");
    expect(() => verify(hook.secret, after)).toThrow();
  });
});

describe("the outbox: key changes become events in their own transaction", () => {
  it("key.created, key.updated, key.rolled, key.revoked and keys.toggled carry ids, never a secret", async () => {
    const hook = await endpoint(["key.created", "key.updated", "key.rolled", "key.revoked", "keys.toggled"]);
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId: ws.id, name: "hooked", type: "SECRET", environment: "LIVE", scopes: [] },
    });
    const keyId = createApiKey.apiKey.id;
    await owner.client.updateApiKey({ input: { id: keyId, name: "renamed" } });
    const { rollApiKey } = await owner.client.rollApiKey({ input: { id: keyId, gracePeriodSeconds: 60 } });
    await owner.client.revokeApiKey({ input: { id: rollApiKey.apiKey.id } });
    await owner.client.setKeysEnabled({ input: { workspaceId: ws.id, enabled: false } });
    await owner.client.setKeysEnabled({ input: { workspaceId: ws.id, enabled: true } });
    await app.deliverWebhooks();
    const events = hook.received().map((r) => verify(hook.secret, r));
    expect(events.map((e) => e.type).sort()).toEqual(
      ["key.created", "key.updated", "key.rolled", "key.revoked", "keys.toggled", "keys.toggled"].sort(),
    );
    expect(events.find((e) => e.type === "key.created")?.data).toEqual({ keyId, environment: "LIVE" });
    expect(events.find((e) => e.type === "key.rolled")?.data).toMatchObject({ keyId, newKeyId: rollApiKey.apiKey.id });
    expect(events.find((e) => e.type === "key.revoked")?.data).toMatchObject({ keyId: rollApiKey.apiKey.id });
    const bodies = hook
      .received()
      .map((r) => r.body)
      .join("\n");
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: keyId } });
    for (const secret of [createApiKey.secret, rollApiKey.secret, row.hash]) expect(bodies).not.toContain(secret);
  });

  it("service.toggled and deployment.published reach endpoints of both environments", async () => {
    const live = await endpoint(["service.toggled", "deployment.published"]);
    const test = await endpoint(["service.toggled"], "TEST");
    const { createService } = await owner.client.createService({
      input: { workspaceId: ws.id, slug: `svc-${randomUUID().slice(0, 8)}`, name: "Svc" },
    });
    await owner.client.setServiceActive({ input: { id: createService.id, active: false } });
    const { deployKeys } = await owner.client.deployKeys({ input: { workspaceId: ws.id, note: "hooked" } });
    await app.deliverWebhooks();
    const events = live.received().map((r) => verify(live.secret, r));
    expect(events.find((e) => e.type === "service.toggled")?.data).toEqual({
      serviceId: createService.id,
      slug: createService.slug,
      active: false,
    });
    expect(events.find((e) => e.type === "deployment.published")?.data).toMatchObject({ version: deployKeys.version });
    expect(test.received().map((r) => verify(test.secret, r).type)).toEqual(["service.toggled"]);
  });

  it("a refused change writes no event (the event shares its transaction)", async () => {
    await endpoint(["key.revoked"]);
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId: ws.id, name: "twice", type: "SECRET", environment: "LIVE", scopes: [] },
    });
    await owner.client.revokeApiKey({ input: { id: createApiKey.apiKey.id } });
    const before = await app.db.webhookEvent.count();
    await expectCode(owner.client.revokeApiKey({ input: { id: createApiKey.apiKey.id } }), "validation_failed");
    expect(await app.db.webhookEvent.count()).toBe(before);
  });

  it("delivers only subscribed events of the endpoint's environment; a disabled endpoint gets none", async () => {
    const revokedOnly = await endpoint(["key.revoked"]);
    const testEnv = await endpoint(["key.created"], "TEST");
    const off = await endpoint(["key.created"]);
    await owner.client.updateWebhookEndpoint({ input: { id: off.id, enabled: false } });
    await owner.client.createApiKey({
      input: { workspaceId: ws.id, name: "live", type: "SECRET", environment: "LIVE", scopes: [] },
    });
    for (const hook of [revokedOnly, testEnv, off]) {
      const { webhookDeliveries } = await owner.client.webhookDeliveries({ endpointId: hook.id });
      expect(webhookDeliveries).toEqual([]);
    }
  });
});

describe("retries, attempts and redelivery", () => {
  it("a failing receiver is retried with backoff; the answer is recorded, cut to 1 KiB; after the last attempt it fails", async () => {
    const hook = await endpoint(["ping"]);
    receiver.answer.status = 500;
    receiver.answer.body = "x".repeat(5000);
    const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    const first = await app.db.webhookDelivery.findUniqueOrThrow({ where: { id: sendTestWebhook.id } });
    expect(first).toMatchObject({ status: "PENDING", attemptCount: 1 });
    const delay = (first.nextAttemptAt?.getTime() ?? 0) - app.clock.now.getTime();
    expect(delay).toBeGreaterThanOrEqual(24_000);
    expect(delay).toBeLessThanOrEqual(36_000);
    // Not due yet: nothing is sent.
    await app.deliverWebhooks();
    expect(hook.received()).toHaveLength(1);
    let elapsed = 0;
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      const row = await app.db.webhookDelivery.findUniqueOrThrow({ where: { id: sendTestWebhook.id } });
      const wait = (row.nextAttemptAt?.getTime() ?? 0) - app.clock.now.getTime();
      elapsed += wait;
      app.clock.advance(wait);
      await app.deliverWebhooks();
    }
    expect(hook.received()).toHaveLength(MAX_ATTEMPTS);
    // About a day between the first and the last attempt.
    expect(elapsed).toBeGreaterThan(16 * 3600_000);
    expect(elapsed).toBeLessThan(30 * 3600_000);
    const { webhookDeliveries } = await owner.client.webhookDeliveries({ endpointId: hook.id });
    const done = webhookDeliveries.find((d) => d.id === sendTestWebhook.id);
    expect(done).toMatchObject({ status: "FAILED", attemptCount: MAX_ATTEMPTS, nextAttemptAt: null });
    expect(done?.attempts).toHaveLength(MAX_ATTEMPTS);
    expect(done?.attempts[0]).toMatchObject({ statusCode: 500, response: "x".repeat(1024) });
    // Every attempt is the same message: one webhook-id.
    expect(new Set(hook.received().map((r) => r.headers["webhook-id"])).size).toBe(1);

    receiver.answer.status = 204;
    const { redeliverWebhook } = await owner.client.redeliverWebhook({ input: { id: sendTestWebhook.id } });
    expect(redeliverWebhook).toMatchObject({ status: "PENDING", attemptCount: 0 });
    await app.deliverWebhooks();
    const again = await app.db.webhookDelivery.findUniqueOrThrow({ where: { id: sendTestWebhook.id } });
    expect(again).toMatchObject({ status: "SUCCEEDED", attemptCount: 1 });
    expect(hook.received().at(-1)?.headers["webhook-id"]).toBe(sendTestWebhook.eventId);
  });

  it("an endpoint failing for 3 days is disabled, with an audit event by the server; then it gets no events", async () => {
    const hook = await endpoint(["key.created"]);
    receiver.answer.status = 503;
    const newKey = async () =>
      owner.client.createApiKey({
        input: { workspaceId: ws.id, name: "failing", type: "SECRET", environment: "LIVE", scopes: [] },
      });
    const enabled = async () => (await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id: hook.id } })).enabled;
    await newKey();
    await app.deliverWebhooks();
    app.clock.advance(2 * 24 * 3600_000);
    await newKey();
    await app.deliverWebhooks();
    expect(await enabled()).toBe(true);
    app.clock.advance(24 * 3600_000);
    await newKey();
    await app.deliverWebhooks();
    expect(await enabled()).toBe(false);
    const audit = await app.db.auditEvent.findMany({
      where: { targetId: hook.id, action: "webhook_endpoint.auto_disable" },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: "system", workspaceId: ws.id });
    const before = hook.received().length;
    await newKey();
    app.clock.advance(24 * 3600_000);
    await app.deliverWebhooks();
    expect(hook.received()).toHaveLength(before);
  });

  it("one success resets the count: an endpoint that recovered is not disabled", async () => {
    const hook = await endpoint(["ping"]);
    receiver.answer.status = 500;
    await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    app.clock.advance(2 * 24 * 3600_000);
    receiver.answer.status = 200;
    await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    app.clock.advance(2 * 24 * 3600_000);
    receiver.answer.status = 500;
    await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    expect((await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id: hook.id } })).enabled).toBe(true);
  });

  it("a receiver slower than the timeout is an attempt with no status, retried later", async () => {
    const hook = await endpoint(["ping"]);
    receiver.answer.delayMs = 1500;
    const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    const row = await app.db.webhookDelivery.findUniqueOrThrow({
      where: { id: sendTestWebhook.id },
      include: { attempts: true },
    });
    expect(row.status).toBe("PENDING");
    expect(row.attempts[0]).toMatchObject({ statusCode: null, responseBody: expect.stringMatching(/timed out/) });
    expect(row.attempts[0]?.latencyMs).toBeLessThan(1400);
  });

  it("a 200 whose body never ends is cut off by the timeout and counts as no answer", async () => {
    const hook = await endpoint(["ping"]);
    receiver.answer.stall = true;
    const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: hook.id } });
    await app.deliverWebhooks();
    const row = await app.db.webhookDelivery.findUniqueOrThrow({
      where: { id: sendTestWebhook.id },
      include: { attempts: true },
    });
    expect(row.status).toBe("PENDING");
    expect(row.attempts[0]).toMatchObject({ statusCode: null, responseBody: "timed out after 500 ms" });
  });

  it("another workspace cannot redeliver (or learn of) a delivery: not_found", async () => {
    const hook = await endpoint(["ping"]);
    const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: hook.id } });
    const stranger = await signUpUser(app, "stranger");
    await expectCode(stranger.client.redeliverWebhook({ input: { id: sendTestWebhook.id } }), "not_found");
    await expectCode(stranger.client.redeliverWebhook({ input: { id: randomUUID() } }), "not_found");
  });
});

describe("the SSRF guard at delivery time, and the worker on its own", () => {
  it("an endpoint whose URL now points at loopback is refused at delivery: the receiver hears nothing", async () => {
    const guarded = await startTestApp({ KEYWARD_WEBHOOK_INTERVAL_MS: "3600000" });
    try {
      const boss = await signUpUser(guarded, "guarded");
      const w = (await boss.client.createWorkspace({ input: { name: "G", slug: `g-${randomUUID().slice(0, 8)}` } }))
        .createWorkspace;
      const { createWebhookEndpoint } = await boss.client.createWebhookEndpoint({
        input: { workspaceId: w.id, environment: "LIVE", url: "https://203.0.113.10/hooks", events: ["ping"] },
      });
      const id = createWebhookEndpoint.endpoint.id;
      // What a DNS answer changed after the check amounts to: the saved host now leads to loopback.
      await guarded.db.webhookEndpoint.update({ where: { id }, data: { url: `${receiver.url}/rebound` } });
      const { sendTestWebhook } = await boss.client.sendTestWebhook({ input: { id } });
      await guarded.deliverWebhooks();
      expect(receiver.received.filter((r) => r.path === "/rebound")).toEqual([]);
      const row = await guarded.db.webhookAttempt.findFirstOrThrow({ where: { deliveryId: sendTestWebhook.id } });
      expect(row).toMatchObject({
        statusCode: null,
        responseBody: expect.stringMatching(/^refused: url .*127\.0\.0\.1/),
      });
    } finally {
      await guarded.close();
    }
  });

  it("the worker the app starts delivers without being asked", async () => {
    const live = await startTestApp({ KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true", KEYWARD_WEBHOOK_INTERVAL_MS: "50" });
    try {
      const boss = await signUpUser(live, "live");
      const w = (await boss.client.createWorkspace({ input: { name: "L", slug: `l-${randomUUID().slice(0, 8)}` } }))
        .createWorkspace;
      const { createWebhookEndpoint } = await boss.client.createWebhookEndpoint({
        input: { workspaceId: w.id, environment: "LIVE", url: `${receiver.url}/by-itself`, events: ["ping"] },
      });
      await boss.client.sendTestWebhook({ input: { id: createWebhookEndpoint.endpoint.id } });
      await vi.waitFor(() => expect(receiver.received.filter((r) => r.path === "/by-itself")).toHaveLength(1), {
        timeout: 5000,
      });
    } finally {
      await live.close();
    }
  });
});

describe("several workers, and a worker that dies mid-delivery", () => {
  const worker = (overrides: Partial<ConstructorParameters<typeof WebhookWorker>[0]> = {}) =>
    new WebhookWorker({
      db: app.db,
      box: app.deps.box,
      clock: () => app.clock.now,
      logger: app.deps.logger,
      policy: { production: false, allowPrivate: true },
      timeoutMs: 2000,
      intervalMs: 3600_000,
      ...overrides,
    });

  it("two workers running at once send each delivery exactly once", async () => {
    const hook = await endpoint(["ping"]);
    const sent = [];
    for (let i = 0; i < 6; i++)
      sent.push((await owner.client.sendTestWebhook({ input: { id: hook.id } })).sendTestWebhook);
    const other = worker();
    await Promise.all([app.deliverWebhooks(), other.run(), worker().run()]);
    const ids = hook.received().map((r) => r.headers["webhook-id"]);
    expect(ids.sort()).toEqual(sent.map((d) => d.eventId).sort());
  });

  it("a delivery whose worker died after claiming it is sent once its lease ends: none is lost", async () => {
    const hook = await endpoint(["ping"]);
    const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: hook.id } });
    // This worker claims the delivery, then dies before sending it (its master key cannot open the secret).
    const dying = worker({
      box: {
        seal: () => "",
        open: () => {
          throw new Error("killed mid-delivery");
        },
      },
    });
    await dying.run();
    expect(hook.received()).toEqual([]);
    const claimed = await app.db.webhookDelivery.findUniqueOrThrow({ where: { id: sendTestWebhook.id } });
    expect(claimed).toMatchObject({ status: "PENDING", attemptCount: 0 });
    // Still leased: the healthy worker leaves it alone...
    await app.deliverWebhooks();
    expect(hook.received()).toEqual([]);
    // ...until the lease ends.
    app.clock.advance(61_000);
    await app.deliverWebhooks();
    expect(hook.received()).toHaveLength(1);
    expect(verify(hook.secret, hook.received()[0] as Received).type).toBe("ping");
  });
});
