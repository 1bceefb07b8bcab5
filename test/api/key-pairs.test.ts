import { randomUUID } from "node:crypto";
import type { CreateKeyPairInput, KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Key pairs, as a chat-widget product issues them: a publishable key for the
// browser and a secret key for the customer's server, made together per
// environment and rotated together. regenerateKeyPair is one transaction: a
// refusal or a failure half-way leaves the old pair exactly as it was.

const ORIGIN = "https://chat.example.com";

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let ws: { id: string };
let serial = 0;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "pairs-owner");
  ws = (await owner.client.createWorkspace({ input: { name: "Chat", slug: `chat-${randomUUID().slice(0, 8)}` } }))
    .createWorkspace;
  await owner.client.createService({ input: { workspaceId: ws.id, slug: "chat", name: "Chat" } });
});
afterAll(() => app.close());

const pairInput = (over: Partial<CreateKeyPairInput> = {}): CreateKeyPairInput => ({
  workspaceId: ws.id,
  name: `Widget ${++serial}`,
  environment: "LIVE",
  publishable: { scopes: ["keys:read"], allowedOrigins: [ORIGIN] },
  secret: { scopes: ["keys:read", "keys:verify"] },
  ...over,
});

async function makePair(by: KeywardClient = owner.client, over: Partial<CreateKeyPairInput> = {}) {
  return (await by.createKeyPair({ input: pairInput(over) })).createKeyPair;
}

async function verify(key: string) {
  return (await owner.client.verifyApiKey({ input: { key, origin: ORIGIN } })).verifyApiKey.code;
}

/** Every key row (but lastUsedAt, written in the background) and the audit log's size. */
async function snapshot() {
  const keys = await app.db.$queryRaw<{ row: string }[]>`
    SELECT (row_to_json(k)::jsonb - 'last_used_at')::text AS row FROM api_keys k ORDER BY id`;
  return { keys: keys.map((k) => k.row), audit: await app.db.auditEvent.count() };
}

async function recentAudit(count: number) {
  const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id, first: count });
  return auditEvents.edges.map((edge) => edge.node);
}

describe("createKeyPair", () => {
  it("makes a publishable and a secret key that name each other, sharing name, environment and service", async () => {
    const { services } = await owner.client.services({ workspaceId: ws.id });
    const chat = services[0]?.id ?? "";
    const pair = await makePair(owner.client, {
      serviceId: chat,
      publishable: { scopes: ["service.chat.read"], allowedOrigins: [ORIGIN] },
    });
    const { publishableKey: pk, secretKey: sk } = pair;
    expect(pk.secret).toMatch(/^pk_live_/);
    expect(sk.secret).toMatch(/^sk_live_/);
    expect(pk.apiKey).toMatchObject({ type: "PUBLISHABLE", pairedWithId: sk.apiKey.id, serviceId: chat });
    expect(sk.apiKey).toMatchObject({ type: "SECRET", pairedWithId: pk.apiKey.id, serviceId: chat });
    expect(pk.apiKey.name).toBe(sk.apiKey.name);
    expect([await verify(pk.secret), await verify(sk.secret)]).toEqual(["VALID", "VALID"]);
    expect((await recentAudit(3)).map((e) => e.action)).toEqual([
      "api_key_pair.create",
      "api_key.create",
      "api_key.create",
    ]);
  });

  it("a refusal of the secret half (an unknown scope) makes neither key, and names secret.scopes", async () => {
    const before = await snapshot();
    const error = await expectCode(
      owner.client.createKeyPair({ input: pairInput({ secret: { scopes: ["keys:nuke"] } }) }),
      "validation_failed",
    );
    expect(error.field).toBe("secret.scopes");
    expect(error.message).toMatch(/^secret\.scopes: unknown scope "keys:nuke"/);
    expect(await snapshot()).toEqual(before);
  });

  it("a publishable half without origins is refused, naming publishable.allowedOrigins", async () => {
    const error = await expectCode(
      owner.client.createKeyPair({ input: pairInput({ publishable: { scopes: ["keys:read"] } }) }),
      "validation_failed",
    );
    expect(error.field).toBe("publishable.allowedOrigins");
  });

  it("a publishable half cannot smuggle a write scope into the browser", async () => {
    const error = await expectCode(
      owner.client.createKeyPair({
        input: pairInput({ publishable: { scopes: ["keys:write"], allowedOrigins: [ORIGIN] } }),
      }),
      "validation_failed",
    );
    expect(error.field).toBe("publishable.scopes");
  });
});

describe("regenerateKeyPair", () => {
  it("with no grace (the default) breaks the old pair at once and hands out a new pair, shown once", async () => {
    const old = await makePair();
    const { regenerateKeyPair: fresh } = await owner.client.regenerateKeyPair({
      input: { id: old.publishableKey.apiKey.id },
    });
    expect(fresh.publishableKey.apiKey).toMatchObject({
      pairedWithId: fresh.secretKey.apiKey.id,
      rolledFromId: old.publishableKey.apiKey.id,
      name: old.publishableKey.apiKey.name,
      allowedOrigins: [ORIGIN],
    });
    expect(fresh.secretKey.apiKey).toMatchObject({
      pairedWithId: fresh.publishableKey.apiKey.id,
      rolledFromId: old.secretKey.apiKey.id,
      scopes: ["keys:read", "keys:verify"],
    });
    expect(fresh.publishableKey.secret).not.toBe(old.publishableKey.secret);
    expect(fresh.secretKey.secret).not.toBe(old.secretKey.secret);
    expect([await verify(old.publishableKey.secret), await verify(old.secretKey.secret)]).toEqual([
      "key_expired",
      "key_expired",
    ]);
    expect([await verify(fresh.publishableKey.secret), await verify(fresh.secretKey.secret)]).toEqual([
      "VALID",
      "VALID",
    ]);
    // The new secrets are in the answer only: a read of the keys never shows them.
    const { apiKey } = await owner.client.apiKey({ id: fresh.secretKey.apiKey.id });
    expect(JSON.stringify(apiKey)).not.toContain(fresh.secretKey.secret);
  });

  it("with a grace period keeps the old pair working until then, like rollApiKey", async () => {
    const old = await makePair();
    await owner.client.regenerateKeyPair({ input: { id: old.secretKey.apiKey.id, gracePeriodSeconds: 3600 } });
    expect([await verify(old.publishableKey.secret), await verify(old.secretKey.secret)]).toEqual(["VALID", "VALID"]);
    const { apiKey } = await owner.client.apiKey({ id: old.publishableKey.apiKey.id });
    expect(apiKey.status).toBe("ROLLING");
    app.clock.advance(3600_000);
    expect([await verify(old.publishableKey.secret), await verify(old.secretKey.secret)]).toEqual([
      "key_expired",
      "key_expired",
    ]);
  });

  it("is audited: each half's roll and the pair's regeneration, with who, which keys and the grace", async () => {
    const old = await makePair();
    const { regenerateKeyPair: fresh } = await owner.client.regenerateKeyPair({
      input: { id: old.secretKey.apiKey.id, gracePeriodSeconds: 60 },
    });
    const [pairEvent, ...rolls] = await recentAudit(3);
    expect(rolls.map((e) => [e.action, e.targetId])).toEqual([
      ["api_key.roll", old.secretKey.apiKey.id],
      ["api_key.roll", old.publishableKey.apiKey.id],
    ]);
    expect(pairEvent).toMatchObject({
      action: "api_key_pair.regenerate",
      actorId: owner.user.id,
      targetId: old.publishableKey.apiKey.id,
      data: {
        oldPublishableKeyId: old.publishableKey.apiKey.id,
        oldSecretKeyId: old.secretKey.apiKey.id,
        publishableKeyId: fresh.publishableKey.apiKey.id,
        secretKeyId: fresh.secretKey.apiKey.id,
        gracePeriodSeconds: 60,
      },
    });
    expect(JSON.stringify(pairEvent)).not.toContain(fresh.secretKey.secret);
  });

  it("replays the same pair for a retried Idempotency-Key, and refuses that key for another input", async () => {
    const old = await makePair();
    const headers = { "Idempotency-Key": `regen-${randomUUID()}` };
    const input = { id: old.publishableKey.apiKey.id };
    const first = (await owner.client.regenerateKeyPair({ input }, { headers })).regenerateKeyPair;
    const retry = (await owner.client.regenerateKeyPair({ input }, { headers })).regenerateKeyPair;
    expect(retry.publishableKey.secret).toBe(first.publishableKey.secret);
    expect(retry.secretKey.secret).toBe(first.secretKey.secret);
    expect(await app.db.apiKey.count({ where: { rolledFromId: old.publishableKey.apiKey.id } })).toBe(1);
    const error = await expectCode(
      owner.client.regenerateKeyPair({ input: { ...input, gracePeriodSeconds: 5 } }, { headers }),
      "validation_failed",
    );
    expect(error.field).toBe("Idempotency-Key");
  });

  it("createKeyPair replays too: a retry makes no second pair", async () => {
    const headers = { "Idempotency-Key": `pair-${randomUUID()}` };
    const input = pairInput();
    const first = (await owner.client.createKeyPair({ input }, { headers })).createKeyPair;
    const retry = (await owner.client.createKeyPair({ input }, { headers })).createKeyPair;
    expect(retry.secretKey).toEqual(first.secretKey);
    expect(retry.publishableKey).toEqual(first.publishableKey);
    expect(await app.db.apiKey.count({ where: { name: input.name } })).toBe(2);
  });
});

describe("regenerateKeyPair refuses, leaving everything as it was", () => {
  it("rolling one half alone (it would leave its partner paired with a dying key)", async () => {
    const pair = await makePair();
    const before = await snapshot();
    const error = await expectCode(
      owner.client.rollApiKey({ input: { id: pair.secretKey.apiKey.id, gracePeriodSeconds: 0 } }),
      "validation_failed",
    );
    expect(error.message).toContain("regenerateKeyPair");
    expect(await snapshot()).toEqual(before);
  });

  it("a key that is no half of a pair", async () => {
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId: ws.id, name: "single", type: "SECRET", environment: "LIVE" },
    });
    const error = await expectCode(
      owner.client.regenerateKeyPair({ input: { id: createApiKey.apiKey.id } }),
      "validation_failed",
    );
    expect(error.field).toBe("id");
  });

  it("a pair already regenerated (an old, leaked pair cannot be spun into a fresh one)", async () => {
    const old = await makePair();
    await owner.client.regenerateKeyPair({ input: { id: old.publishableKey.apiKey.id, gracePeriodSeconds: 600 } });
    const before = await snapshot();
    const error = await expectCode(
      owner.client.regenerateKeyPair({ input: { id: old.secretKey.apiKey.id } }),
      "validation_failed",
    );
    expect(error.message).toContain("already regenerated");
    expect(await snapshot()).toEqual(before);
  });

  it("a pair whose secret half was revoked", async () => {
    const pair = await makePair();
    await owner.client.revokeApiKey({ input: { id: pair.secretKey.apiKey.id, reason: "leaked" } });
    const before = await snapshot();
    const error = await expectCode(
      owner.client.regenerateKeyPair({ input: { id: pair.publishableKey.apiKey.id } }),
      "validation_failed",
    );
    expect(error.message).toContain("secret key is revoked");
    expect(await snapshot()).toEqual(before);
  });

  it("another workspace's owner regenerating this pair gets not_found, like a missing id", async () => {
    const pair = await makePair();
    const stranger = await signUpUser(app, "pairs-stranger");
    const before = await snapshot();
    const foreign = await expectCode(
      stranger.client.regenerateKeyPair({ input: { id: pair.secretKey.apiKey.id } }),
      "not_found",
    );
    const missing = await expectCode(stranger.client.regenerateKeyPair({ input: { id: randomUUID() } }), "not_found");
    expect(foreign.message).toBe(missing.message);
    expect(await snapshot()).toEqual(before);
  });

  it("the publishable half, from the browser, cannot regenerate its own pair", async () => {
    const pair = await makePair();
    const browser = app.client(pair.publishableKey.secret, { origin: ORIGIN });
    await expectCode(
      browser.regenerateKeyPair({ input: { id: pair.publishableKey.apiKey.id } }),
      "publishable_key_write",
    );
  });

  it("a key caller that may roll the publishable half but not the secret one: refused half-way, first roll undone", async () => {
    const pair = await makePair();
    const { createApiKey: manager } = await owner.client.createApiKey({
      input: {
        workspaceId: ws.id,
        name: "manager",
        type: "SECRET",
        environment: "LIVE",
        scopes: ["keys:write", "keys:read"],
      },
    });
    const before = await snapshot();
    const error = await expectCode(
      app.client(manager.secret).regenerateKeyPair({ input: { id: pair.publishableKey.apiKey.id } }),
      "insufficient_permissions",
    );
    expect(error.field).toBe("secret.scopes");
    expect(error.message).toContain("keys:verify");
    expect(await snapshot()).toEqual(before);
    expect([await verify(pair.publishableKey.secret), await verify(pair.secretKey.secret)]).toEqual(["VALID", "VALID"]);
  });
});

describe("a failure half-way leaves nothing changed", () => {
  beforeAll(async () => {
    // The database refuses the second half's insert, as a crash or a full disk would.
    await app.db.$executeRawUnsafe(`CREATE FUNCTION refuse_second_half() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = 'SECRET' AND NEW.name LIKE 'doomed%' THEN RAISE EXCEPTION 'the disk is full'; END IF;
        RETURN NEW;
      END $$`);
    await app.db.$executeRawUnsafe(
      "CREATE TRIGGER refuse_second_half BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE FUNCTION refuse_second_half()",
    );
  });
  afterAll(async () => {
    await app.db.$executeRawUnsafe("DROP TRIGGER refuse_second_half ON api_keys");
    await app.db.$executeRawUnsafe("DROP FUNCTION refuse_second_half()");
  });

  it("regenerateKeyPair: the publishable half's roll is undone, the old pair still works, nothing is audited", async () => {
    const pair = await makePair();
    // Renamed past the trigger: the pair exists; only its regeneration's second insert fails.
    await app.db.apiKey.updateMany({
      where: { id: { in: [pair.publishableKey.apiKey.id, pair.secretKey.apiKey.id] } },
      data: { name: "doomed pair" },
    });
    app.keys.cache.clear();
    const before = await snapshot();
    await expectCode(
      owner.client.regenerateKeyPair({ input: { id: pair.publishableKey.apiKey.id } }),
      "INTERNAL_SERVER_ERROR",
    );
    expect(await snapshot()).toEqual(before);
    expect([await verify(pair.publishableKey.secret), await verify(pair.secretKey.secret)]).toEqual(["VALID", "VALID"]);
  });

  it("createKeyPair: the publishable half is not left behind", async () => {
    const before = await snapshot();
    await expectCode(
      owner.client.createKeyPair({ input: pairInput({ name: "doomed widget" }) }),
      "INTERNAL_SERVER_ERROR",
    );
    expect(await snapshot()).toEqual(before);
  });
});

describe("two regenerations of one pair at once", () => {
  it("make exactly one new pair; the other is told the pair was already regenerated", async () => {
    const pair = await makePair();
    const results = await Promise.allSettled([
      owner.client.regenerateKeyPair({ input: { id: pair.publishableKey.apiKey.id, gracePeriodSeconds: 60 } }),
      owner.client.regenerateKeyPair({ input: { id: pair.secretKey.apiKey.id, gracePeriodSeconds: 60 } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((rejected.reason as { code: string; message: string }).message).toContain("already regenerated");
    const successors = await app.db.apiKey.count({
      where: { rolledFromId: { in: [pair.publishableKey.apiKey.id, pair.secretKey.apiKey.id] } },
    });
    expect(successors).toBe(2);
  });
});
