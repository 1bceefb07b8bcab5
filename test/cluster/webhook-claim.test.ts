import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../server/db";
import { ExpiryAlerts, LOCK_KEY } from "../../server/webhooks/expiry";
import { WebhookWorker } from "../../server/webhooks/worker";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { type Receiver, startReceiver } from "../helpers/receiver";

// The delivery worker's claim (server/webhooks/worker.ts) on PostgreSQL, with two
// instances' workers, each on its own connection pool, sharing one outbox: every
// event is sent exactly once per attempt, and a worker does not wait for rows
// another instance is claiming but takes the next ones. And the expiry job's lease
// (server/webhooks/expiry.ts): while another instance's pass holds it, a pass does nothing. Needs DATABASE_URL (a
// PostgreSQL server on which it may create a database); `.ci/run` provides it.

let app: TestApp;
let other: Database;
let receiver: Receiver;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let endpointId: string;
let workspaceId: string;
const path = `/claim/${randomUUID()}`;

beforeAll(async () => {
  if (!process.env.DATABASE_URL) {
    throw new Error(
      "the webhook claim tests need DATABASE_URL pointing at PostgreSQL (see README: npm run test:cluster)",
    );
  }
  app = await startTestApp({ KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true", KEYWARD_WEBHOOK_INTERVAL_MS: "3600000" });
  other = await openDatabase({ databaseUrl: app.database.url });
  receiver = await startReceiver();
  owner = await signUpUser(app, "owner");
  const ws = (
    await owner.client.createWorkspace({ input: { name: "Claim", slug: `claim-${randomUUID().slice(0, 8)}` } })
  ).createWorkspace;
  const { createWebhookEndpoint } = await owner.client.createWebhookEndpoint({
    input: { workspaceId: ws.id, environment: "LIVE", url: `${receiver.url}${path}`, events: ["ping"] },
  });
  endpointId = createWebhookEndpoint.endpoint.id;
  workspaceId = ws.id;
});
afterAll(async () => {
  await other?.close();
  await app?.close();
  await receiver?.close();
});

const worker = (db: Database["prisma"]) =>
  new WebhookWorker({
    db,
    box: app.deps.box,
    clock: () => app.clock.now,
    logger: app.deps.logger,
    policy: { production: false, allowPrivate: true },
    timeoutMs: 5000,
    intervalMs: 3600_000,
  });

async function queuePings(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await owner.client.sendTestWebhook({ input: { id: endpointId } })).sendTestWebhook.eventId);
  }
  return ids;
}

const arrived = () => receiver.received.filter((r) => r.path === path).map((r) => String(r.headers["webhook-id"]));

describe("two instances' workers sharing one outbox on PostgreSQL", () => {
  it("deliver each of 60 events exactly once, with one recorded attempt each", async () => {
    receiver.received.length = 0;
    const events = await queuePings(60);
    // Both pools connected first, so the claims of the first round really overlap.
    await Promise.all([app.db.$queryRaw`SELECT 1`, other.prisma.$queryRaw`SELECT 1`]);
    const workers = [worker(app.db), worker(app.db), worker(other.prisma), worker(other.prisma)];
    for (let round = 0; round < 10 && new Set(arrived()).size < events.length; round++) {
      await Promise.all(workers.map((w) => w.run()));
    }
    const ids = arrived();
    const duplicates = ids.length - new Set(ids).size;
    console.log(`4 workers on 2 pools, ${events.length} events: ${ids.length} requests, ${duplicates} duplicates`);
    expect(ids.sort()).toEqual([...events].sort());
    const deliveries = await app.db.webhookDelivery.findMany({
      where: { eventId: { in: events } },
      include: { attempts: true },
    });
    expect(deliveries.map((d) => [d.status, d.attemptCount, d.attempts.length])).toEqual(
      events.map(() => ["SUCCEEDED", 1, 1]),
    );
  });

  it("a worker does not wait for deliveries another instance is claiming: it takes the next ones", async () => {
    receiver.received.length = 0;
    const events = await queuePings(40);
    // Another instance mid-claim: it holds the row locks of the 20 oldest due deliveries.
    const holder = new pg.Client({ connectionString: app.database.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      const held = await holder.query<{ event_id: string }>(
        `SELECT event_id::text FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'PENDING'
         ORDER BY next_attempt_at LIMIT 20 FOR UPDATE`,
        [endpointId],
      );
      const heldIds = new Set(held.rows.map((row) => row.event_id));
      expect(heldIds.size).toBe(20);
      const waited = new Promise<"blocked">((resolve) => setTimeout(() => resolve("blocked"), 5000).unref());
      expect(await Promise.race([worker(other.prisma).run(), waited])).toBe(20);
      const first = arrived();
      expect(first.filter((id) => heldIds.has(id))).toEqual([]);
      await holder.query("ROLLBACK");
      await worker(app.db).run();
      expect(arrived().sort()).toEqual([...events].sort());
    } finally {
      await holder.end();
    }
  });
});

describe("the expiry job's lease on PostgreSQL", () => {
  it("while another instance's pass holds the lock, a pass enqueues nothing; once it ends, one does", async () => {
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId,
        name: "expiring",
        type: "SECRET",
        environment: "LIVE",
        scopes: [],
        expiresAt: new Date(app.clock.now.getTime() + 3 * 86_400_000).toISOString(),
      },
    });
    const job = new ExpiryAlerts({
      db: other.prisma,
      clock: () => app.clock.now,
      logger: app.deps.logger,
      intervalMs: 1,
    });
    const alerts = () => app.db.keyExpiryAlert.count({ where: { keyId: createApiKey.apiKey.id } });
    const holder = new pg.Client({ connectionString: app.database.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
      expect(await job.run()).toBeNull();
      expect(await alerts()).toBe(0);
      await holder.query("COMMIT");
      expect(await job.run()).toBe(1);
      expect(await alerts()).toBe(1);
    } finally {
      await holder.end();
    }
  });
});
