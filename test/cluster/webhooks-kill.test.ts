import { randomBytes } from "node:crypto";
import { createClient } from "@keyward/sdk";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { type ServerProcess, startServer, waitFor } from "../helpers/processes";
import { type Receiver, startReceiver } from "../helpers/receiver";

// Killing the server mid-delivery loses no event: a real server process sends key
// events to a slow receiver, is killed with SIGKILL while deliveries are in flight,
// and is started again on the same PostgreSQL database. Every event's webhook-id must
// reach the receiver in a request the receiver answered to a sender still there to
// read the answer: a request cut off by the kill does not count, so the restarted
// server must send it again. Duplicates are allowed (receivers de-duplicate on webhook-id).
// Needs DATABASE_URL (a PostgreSQL server on which it may create a database).

const EVENTS = 30;
/** The delivery lease (server/webhooks/worker.ts) a killed instance's claims wait out, plus slack. */
const AFTER_LEASE_MS = 120_000;

let database: TestDatabase;
let receiver: Receiver;
let server: ServerProcess | undefined;

beforeAll(async () => {
  if (!process.env.DATABASE_URL) {
    throw new Error(
      "the kill -9 delivery test needs DATABASE_URL pointing at PostgreSQL (see README: npm run test:cluster)",
    );
  }
  database = await openTestDatabase();
  receiver = await startReceiver();
});
afterAll(async () => {
  server?.kill();
  await receiver?.close();
  await database?.drop();
});

describe("kill -9 during webhook delivery", () => {
  it(
    `loses none of ${EVENTS} key events: each reaches the receiver after a restart`,
    async () => {
      const env = {
        DATABASE_URL: database.url ?? "",
        KEYWARD_MASTER_KEY: randomBytes(32).toString("base64"),
        KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
        KEYWARD_WEBHOOK_INTERVAL_MS: "100",
        KEYWARD_WEBHOOK_TIMEOUT_MS: "5000",
      };
      // Each answer takes a second: at any moment up to a batch of deliveries is in flight.
      receiver.answer.delayMs = 1000;
      server = await startServer(env);
      const anonymous = createClient({ url: `${server.url}/graphql` });
      const { signUp } = await anonymous.signUp({
        input: { email: "owner@kill.test", password: "correct horse battery staple", name: "Owner" },
      });
      let owner = createClient({ url: `${server.url}/graphql`, token: signUp.token });
      const { createWorkspace } = await owner.createWorkspace({ input: { name: "Kill", slug: "kill" } });
      const { createWebhookEndpoint } = await owner.createWebhookEndpoint({
        input: {
          workspaceId: createWorkspace.id,
          environment: "LIVE",
          url: `${receiver.url}/hooks`,
          events: ["key.created"],
        },
      });
      for (let i = 0; i < EVENTS; i++) {
        await owner.createApiKey({
          input: { workspaceId: createWorkspace.id, name: `key ${i}`, type: "SECRET", environment: "LIVE", scopes: [] },
        });
      }
      const events = (await database.database.prisma.webhookEvent.findMany({ where: { type: "key.created" } })).map(
        (e) => e.id,
      );
      expect(events).toHaveLength(EVENTS);

      // The first batch is answered; kill once the second is on the wire, unanswered.
      await waitFor(
        async () => receiver.received.length >= 25,
        60_000,
        () => server?.output() ?? "",
      );
      server.kill();
      await server.exited;
      const atKill = {
        requests: receiver.received.length,
        unanswered: receiver.received.filter((r) => !r.answered).length,
        recorded: await database.database.prisma.webhookDelivery.count({ where: { status: "SUCCEEDED" } }),
      };

      server = await startServer(env);
      owner = createClient({ url: `${server.url}/graphql`, token: signUp.token });
      const started = Date.now();
      const ids = () =>
        new Set(receiver.received.filter((r) => r.answered).map((r) => String(r.headers["webhook-id"])));
      await waitFor(
        async () => events.every((id) => ids().has(id)),
        AFTER_LEASE_MS,
        () => server?.output() ?? "",
      );
      const lost = events.filter((id) => !ids().has(id)).length;
      const duplicates = receiver.received.length - new Set(receiver.received.map((r) => r.headers["webhook-id"])).size;
      console.log(
        `kill -9 mid-delivery: ${EVENTS} events; at the kill ${atKill.requests} requests had reached the receiver ` +
          `(${atKill.unanswered} cut off unanswered) and ${atKill.recorded} deliveries were recorded; after the restart ` +
          `every event was answered within ${Date.now() - started} ms: ${receiver.received.length} requests, ` +
          `${duplicates} duplicates, ${lost} lost`,
      );
      expect(lost).toBe(0);
      // The kill really cut deliveries short: some were on the wire, unanswered.
      expect(atKill.unanswered).toBeGreaterThan(0);
      expect(atKill.recorded).toBeLessThan(EVENTS);

      // Every request, before and after the kill, verifies as a receiver would check it.
      const verifier = new Webhook(createWebhookEndpoint.secret);
      for (const request of receiver.received) {
        expect(verifier.verify(request.body, request.headers as Record<string, string>)).toMatchObject({
          type: "key.created",
        });
      }
      await waitFor(
        async () =>
          (await database.database.prisma.webhookDelivery.count({ where: { status: "SUCCEEDED" } })) === EVENTS,
        30_000,
      );
      const { webhookDeliveries } = await owner.webhookDeliveries({ endpointId: createWebhookEndpoint.endpoint.id });
      expect(webhookDeliveries.map((d) => d.status)).toEqual(Array(EVENTS).fill("SUCCEEDED"));
    },
    AFTER_LEASE_MS + 120_000,
  );
});
