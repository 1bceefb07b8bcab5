import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookWorker } from "../../server/webhooks/worker";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { type Receiver, startReceiver } from "../helpers/receiver";

// A server stopping (SIGTERM) while a webhook is being sent: the worker waits a
// bounded time for the send, then cuts it off and hands the delivery back, so the
// shutdown keeps its time bound and the next worker sends it at once, not after
// its lease.

let app: TestApp;
let receiver: Receiver;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let ws: { id: string };

beforeAll(async () => {
  app = await startTestApp({
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
    KEYWARD_WEBHOOK_INTERVAL_MS: "3600000",
  });
  receiver = await startReceiver();
  owner = await signUpUser(app, "owner");
  ws = (
    await owner.client.createWorkspace({ input: { name: "Stopping", slug: `stopping-${randomUUID().slice(0, 8)}` } })
  ).createWorkspace;
});
afterAll(async () => {
  await app.close();
  await receiver.close();
});

async function pingDelivery() {
  const path = `/hooks/${randomUUID()}`;
  const { createWebhookEndpoint } = await owner.client.createWebhookEndpoint({
    input: { workspaceId: ws.id, environment: "LIVE", url: `${receiver.url}${path}`, events: ["ping"] },
  });
  const { sendTestWebhook } = await owner.client.sendTestWebhook({ input: { id: createWebhookEndpoint.endpoint.id } });
  return { id: sendTestWebhook.id, received: () => receiver.received.filter((r) => r.path === path) };
}

describe("stopping the webhook worker", () => {
  it("a receiver that never answers cannot hold a stopping server past the grace; the delivery is handed back unrecorded", async () => {
    const delivery = await pingDelivery();
    receiver.answer.delayMs = 60_000;
    // The worker a server runs, with a send timeout far beyond the grace.
    const worker = new WebhookWorker({
      db: app.db,
      box: app.deps.box,
      clock: () => app.clock.now,
      logger: app.deps.logger,
      policy: { production: false, allowPrivate: true },
      timeoutMs: 30_000,
      intervalMs: 3600_000,
    });
    const sending = worker.run();
    for (let i = 0; delivery.received().length === 0 && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
    expect(delivery.received()).toHaveLength(1);

    const started = performance.now();
    await worker.stop(200);
    await sending;
    expect(performance.now() - started).toBeLessThan(2_000);

    const row = await app.db.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
    expect(row).toMatchObject({ status: "PENDING", attemptCount: 0 });
    // Due now, not a 60 s lease away.
    expect(row.nextAttemptAt?.getTime()).toBeLessThanOrEqual(app.clock.now.getTime());
    expect(await app.db.webhookAttempt.count({ where: { deliveryId: delivery.id } })).toBe(0);
  });
});
