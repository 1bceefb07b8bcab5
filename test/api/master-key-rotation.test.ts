import { randomBytes } from "node:crypto";
import { createClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../server/app";
import { loadConfig } from "../../server/config";
import { SEALED_COLUMNS } from "../../server/keys/reseal";
import { createSecretBox, masterKeyId } from "../../server/keys/secret-box";
import { createLogger } from "../../server/logger";
import { operatorCommands } from "../../server/platform/operations";
import { signingSecrets } from "../../server/webhooks/signing";
import { startTestApp, type TestApp } from "../helpers/app";
import { type AudienceTenant, ORIGIN, seconds, seedAudienceTenant, sign, verifyThrough } from "../helpers/audience";

// rotate-master-key in process, on either database: values sealed under key A
// are re-sealed under B while the server keeps verifying audience tokens (whose
// signing keys it must open), and a server started with only B opens everything.

const A = randomBytes(32);
const B = randomBytes(32);
let app: TestApp;
let tenant: AudienceTenant;
let token: string;
let webhook: { id: string; secrets: string[] };
let replay: { key: string; secret: string };

const sealedValues = async () => {
  const values: string[] = [];
  for (const { table, column } of SEALED_COLUMNS) {
    const rows = await app.db.$queryRawUnsafe<{ v: string }[]>(
      `SELECT ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL`,
    );
    values.push(...rows.map((row) => row.v));
  }
  return values;
};

/** An SDK client on another app over the same database. */
const clientOn = (server: Awaited<ReturnType<typeof createApp>>, headers: Record<string, string> = {}) =>
  createClient({
    url: "http://keyward.test/graphql",
    token: tenant.owner.token,
    headers,
    fetch: (input, init) => server.fetch(input as string, init, { ip: "203.0.113.7" }),
  });

const verifyToken = async (on: TestApp = app) =>
  (await verifyThrough(on, "verifyApiKey", { key: tenant.pk.secret, token, verifier: tenant.owner.token })).code;

beforeAll(async () => {
  app = await startTestApp({
    KEYWARD_MASTER_KEY: A.toString("base64"),
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
    KEYWARD_WEBHOOK_INTERVAL_MS: "3600000",
  });
  tenant = await seedAudienceTenant(app, "rotate", [["enterprise", null]]);
  token = await sign(tenant.signer.secret, { audience: "enterprise", exp: seconds(app, 3600) });
  const owner = tenant.owner.client;
  const hook = await owner.createWebhookEndpoint({
    input: { workspaceId: tenant.workspaceId, environment: "LIVE", url: "http://127.0.0.1:9/h", events: ["ping"] },
  });
  const rotated = await owner.rotateWebhookSecret({ input: { id: hook.createWebhookEndpoint.endpoint.id } });
  webhook = {
    id: hook.createWebhookEndpoint.endpoint.id,
    secrets: [rotated.rotateWebhookSecret.secret, hook.createWebhookEndpoint.secret],
  };
  const key = `rotate-${randomBytes(4).toString("hex")}`;
  const input = {
    workspaceId: tenant.workspaceId,
    name: "once",
    type: "SECRET" as const,
    environment: "LIVE" as const,
  };
  const made = await app.client(tenant.owner.token, { "Idempotency-Key": key }).createApiKey({ input });
  replay = { key, secret: made.createApiKey.secret };
  // A signing key sealed before key ids existed: the same ciphertext without its `<id>.`.
  const signer = await app.db.apiKey.findUniqueOrThrow({ where: { id: tenant.signer.id } });
  const legacy = (signer.sealedSecret ?? "").split(".")[1];
  await app.db.apiKey.update({ where: { id: tenant.signer.id }, data: { sealedSecret: legacy } });
  app.keys.cache.clear();
  expect(await verifyToken()).toBe("VALID");
}, 60_000);

afterAll(() => app.close());

describe("rotate-master-key", () => {
  it("re-seals every copy under B while verifications of audience tokens keep answering VALID", async () => {
    const commands = operatorCommands(
      app.db,
      () => {},
      () => {},
      app.box,
    );
    let rotating = true;
    const codes: string[] = [];
    const load = (async () => {
      while (rotating) {
        // Forget the opened signing keys, so each verification opens them again mid-rotation.
        app.keys.cache.clear();
        codes.push(await verifyToken());
      }
    })();
    const result = await commands.rotateMasterKey({ key: B.toString("base64") });
    rotating = false;
    await load;
    expect(result).toMatchObject({ ok: true, value: { keyId: masterKeyId(B), resealed: 5, unreadable: 0 } });
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(["VALID"]));
    const values = await sealedValues();
    // Two signing keys (LIVE and TEST), the webhook secret and its predecessor, one idempotent answer.
    expect(values).toHaveLength(5);
    for (const value of values) expect(value.startsWith(`${masterKeyId(B)}.`)).toBe(true);
    // New copies are sealed under B at once by the running server.
    expect(app.deps.box.seal("x").startsWith(`${masterKeyId(B)}.`)).toBe(true);
  });

  it("running it again re-seals nothing", async () => {
    const commands = operatorCommands(
      app.db,
      () => {},
      () => {},
      app.box,
    );
    expect(await commands.rotateMasterKey({ key: B.toString("base64") })).toMatchObject({
      ok: true,
      value: { resealed: 0 },
    });
  });

  it("only B opens the copies now; A alone opens none of them", async () => {
    const onlyB = createSecretBox(B);
    const onlyA = createSecretBox(A);
    for (const value of await sealedValues()) {
      expect(onlyB.open(value)).not.toBeNull();
      expect(onlyA.open(value)).toBeNull();
    }
  });

  it("a server started with only B verifies the token, replays the idempotent answer and signs webhooks with both secrets", async () => {
    const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", KEYWARD_MASTER_KEY: B.toString("base64") });
    const second = await createApp({ config, logger: createLogger("silent"), database: app.database.database });
    try {
      const { verifyApiKey } = await clientOn(second).verifyApiKey({
        input: { key: tenant.pk.secret, token, origin: ORIGIN },
      });
      expect(verifyApiKey.code).toBe("VALID");
      const again = await clientOn(second, { "Idempotency-Key": replay.key }).createApiKey({
        input: { workspaceId: tenant.workspaceId, name: "once", type: "SECRET", environment: "LIVE" },
      });
      expect(again.createApiKey.secret).toBe(replay.secret);
      const endpoint = await app.db.webhookEndpoint.findUniqueOrThrow({ where: { id: webhook.id } });
      expect(signingSecrets(endpoint, second.deps.box, new Date())).toEqual(webhook.secrets);
    } finally {
      // The database is the first app's: only the second one's own workers stop here.
      await second.webhooks.stop();
      await second.keys.usage.stop();
      await second.keys.bus.close();
    }
  });

  it("is audited with the new key's id and nothing of the key itself; a malformed key is refused", async () => {
    const events = await app.db.auditEvent.findMany({ where: { action: "master_key.rotate" } });
    expect(events.map((event) => event.data)).toContainEqual({ keyId: masterKeyId(B), resealed: 5, unreadable: 0 });
    expect(JSON.stringify(events.map((event) => event.data))).not.toContain(B.toString("base64"));
    const commands = operatorCommands(app.db);
    expect(await commands.rotateMasterKey({ key: "short" })).toMatchObject({
      ok: false,
      error: { code: "validation_failed", field: "key" },
    });
  });

  it("a copy no key of the ring opens is left as it is and counted as unreadable", async () => {
    const stranger = createSecretBox(randomBytes(32)).seal("sealed elsewhere");
    await app.db.idempotencyRecord.create({
      data: {
        principal: "test",
        key: "stranger",
        operation: "createApiKey",
        requestHash: "x",
        encryptedResponse: stranger,
        expiresAt: new Date(Date.now() + 3600_000),
      },
    });
    const result = await operatorCommands(
      app.db,
      () => {},
      () => {},
      app.box,
    ).rotateMasterKey({
      key: B.toString("base64"),
    });
    expect(result).toMatchObject({ ok: true, value: { resealed: 0, unreadable: 1 } });
    const row = await app.db.idempotencyRecord.findFirstOrThrow({ where: { key: "stranger" } });
    expect(row.encryptedResponse).toBe(stranger);
  });
});
