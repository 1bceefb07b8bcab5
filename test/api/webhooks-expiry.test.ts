import { randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ExpiryAlerts } from "../../server/webhooks/expiry";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { type Receiver, startReceiver } from "../helpers/receiver";

// Expiry alerts (server/webhooks/expiry.ts), driven by the test's clock: key.expiring
// 7 days and 1 day before a key expires and key.expired after, each once per key and
// threshold however often and on however many instances the job runs; none for keys
// revoked or rolled first; a fresh series for a key given a new expiry.

const DAY = 86_400_000;
const HOUR = 3_600_000;

let app: TestApp;
let receiver: Receiver;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let ws: { id: string };
let secret: string;
const path = `/expiry/${randomUUID()}`;

beforeAll(async () => {
  app = await startTestApp({
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
    // The tests run both jobs themselves, at the times they set.
    KEYWARD_WEBHOOK_INTERVAL_MS: "3600000",
    KEYWARD_EXPIRY_INTERVAL_MS: "3600000",
    // The clock moves about two months: the owner's session must outlive it.
    KEYWARD_SESSION_TTL_HOURS: "8760",
  });
  receiver = await startReceiver();
  owner = await signUpUser(app, "owner");
  ws = (await owner.client.createWorkspace({ input: { name: "Expiry", slug: `expiry-${randomUUID().slice(0, 8)}` } }))
    .createWorkspace;
  const { createWebhookEndpoint } = await owner.client.createWebhookEndpoint({
    input: {
      workspaceId: ws.id,
      environment: "LIVE",
      url: `${receiver.url}${path}`,
      events: ["key.expiring", "key.expired"],
    },
  });
  secret = createWebhookEndpoint.secret;
});
afterAll(async () => {
  await app.close();
  await receiver.close();
});

async function keyExpiringIn(ms: number, name = "expiring") {
  const { createApiKey } = await owner.client.createApiKey({
    input: {
      workspaceId: ws.id,
      name,
      type: "SECRET",
      environment: "LIVE",
      scopes: [],
      expiresAt: new Date(app.clock.now.getTime() + ms).toISOString(),
    },
  });
  return createApiKey.apiKey.id;
}

/** The alerts enqueued for a key, oldest first, as `type:within` (within only for key.expiring). */
async function alertsFor(keyId: string): Promise<string[]> {
  const events = await app.db.webhookEvent.findMany({
    where: { payload: { path: ["data", "keyId"], equals: keyId } },
    orderBy: { createdAt: "asc" },
  });
  return events
    .map((e) => e.payload as { type: string; data: { within?: string } })
    .filter((p) => p.type === "key.expiring" || p.type === "key.expired")
    .map((p) => (p.data.within ? `${p.type}:${p.data.within}` : p.type));
}

describe("thresholds", () => {
  it("sends 7 days before, 1 day before and after expiry, each once however often the job runs", async () => {
    const id = await keyExpiringIn(10 * DAY);
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual([]);
    app.clock.advance(3 * DAY + HOUR); // 6 days 23 hours left
    await app.alertExpiry();
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual(["key.expiring:7d"]);
    app.clock.advance(6 * DAY); // 23 hours left
    await app.alertExpiry();
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual(["key.expiring:7d", "key.expiring:1d"]);
    app.clock.advance(23 * HOUR + 1);
    await app.alertExpiry();
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual(["key.expiring:7d", "key.expiring:1d", "key.expired"]);
    app.clock.advance(30 * DAY);
    await app.alertExpiry();
    expect(await alertsFor(id)).toHaveLength(3);
  });

  it("a key first seen 12 hours before expiry gets the 1-day alert only, not a late 7-day one", async () => {
    const id = await keyExpiringIn(12 * HOUR);
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual(["key.expiring:1d"]);
  });

  it("the receiver gets key.expiring with the key's id and expiry, signed, and no secret", async () => {
    const id = await keyExpiringIn(2 * DAY);
    expect(await app.alertExpiry()).toBeGreaterThanOrEqual(1);
    await app.deliverWebhooks();
    const request = receiver.received.find((r) => r.path === path && r.body.includes(id));
    if (!request) throw new Error("the alert did not arrive");
    vi.useFakeTimers({ toFake: ["Date"], now: app.clock.now });
    try {
      const payload = new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
      const key = await app.db.apiKey.findUniqueOrThrow({ where: { id } });
      expect(payload).toEqual({
        type: "key.expiring",
        timestamp: app.clock.now.toISOString(),
        data: { keyId: id, environment: "LIVE", expiresAt: key.expiresAt?.toISOString(), within: "7d" },
      });
      expect(request.body).not.toContain(key.hash);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("keys that need no alert, and a changed expiry", () => {
  it("a key revoked before the threshold gets none, not even key.expired", async () => {
    const id = await keyExpiringIn(8 * DAY);
    await owner.client.revokeApiKey({ input: { id, reason: "no longer used" } });
    app.clock.advance(9 * DAY);
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual([]);
  });

  it("a key rolled before the threshold gets none; its successor, with the same expiry, gets them", async () => {
    const id = await keyExpiringIn(8 * DAY);
    const { rollApiKey } = await owner.client.rollApiKey({ input: { id, gracePeriodSeconds: 3600 } });
    app.clock.advance(2 * DAY);
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual([]);
    expect(await alertsFor(rollApiKey.apiKey.id)).toEqual(["key.expiring:7d"]);
  });

  it("a key whose expiry is moved later after its 7-day alert is alerted again for the new expiry", async () => {
    const id = await keyExpiringIn(5 * DAY);
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual(["key.expiring:7d"]);
    const later = new Date(app.clock.now.getTime() + 20 * DAY).toISOString();
    await owner.client.updateApiKey({ input: { id, expiresAt: later } });
    app.clock.advance(5 * DAY); // the old expiry passes: no key.expired for an expiry the key no longer has
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual(["key.expiring:7d"]);
    app.clock.advance(9 * DAY); // 6 days before the new expiry
    await app.alertExpiry();
    expect(await alertsFor(id)).toEqual(["key.expiring:7d", "key.expiring:7d"]);
    const events = await app.db.webhookEvent.findMany({ where: { payload: { path: ["data", "keyId"], equals: id } } });
    expect(events.map((e) => (e.payload as { data: { expiresAt: string } }).data.expiresAt)).toContain(later);
  });
});

describe("several instances and restarts", () => {
  const job = () =>
    new ExpiryAlerts({ db: app.db, clock: () => app.clock.now, logger: app.deps.logger, intervalMs: 3600_000 });

  it("three jobs running at once (as on three instances) enqueue each alert once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await keyExpiringIn((i % 2 ? 3 : 0.5) * DAY, `burst ${i}`));
    const results = await Promise.all([app.alertExpiry(), job().run(), job().run()]);
    expect(results.reduce<number>((sum, n) => sum + (n ?? 0), 0)).toBe(12);
    for (const [i, id] of ids.entries()) expect(await alertsFor(id)).toEqual([`key.expiring:${i % 2 ? "7d" : "1d"}`]);
  });

  it("a job started afresh (a restarted server) sends nothing already sent", async () => {
    const id = await keyExpiringIn(DAY / 2);
    await app.alertExpiry();
    expect(await job().run()).toBe(0);
    expect(await alertsFor(id)).toEqual(["key.expiring:1d"]);
  });
});
