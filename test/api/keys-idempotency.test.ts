import type { CreateApiKeyInput } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Idempotency-Key on createApiKey and rollApiKey: a retried request gets the
// first answer (same key, same secret) instead of a second key; the header is
// per caller, kept 24 hours, and a refused attempt does not use it up.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

type Person = Awaited<ReturnType<typeof signUpUser>>;
let owner: Person;
let moderator: Person;
let ws: { id: string };

let counter = 0;
const freshKey = (label: string) => `${label}-${process.pid}-${++counter}`;

beforeAll(async () => {
  owner = await signUpUser(app, "owner");
  moderator = await signUpUser(app, "moderator");
  ws = (await owner.client.createWorkspace({ input: { name: "Idem", slug: freshKey("idem") } })).createWorkspace;
  await owner.client.addMember({ input: { workspaceId: ws.id, email: moderator.email, role: "MODERATOR" } });
});

const input = (name: string, extra: Partial<CreateApiKeyInput> = {}): CreateApiKeyInput => ({
  workspaceId: ws.id,
  name,
  type: "SECRET",
  environment: "LIVE",
  scopes: ["keys:read"],
  metadata: { purpose: "idempotency" },
  ...extra,
});

const header = (key: string) => ({ headers: { "Idempotency-Key": key } });
const keysNamed = (name: string) => app.db.apiKey.count({ where: { workspaceId: ws.id, name } });

describe("createApiKey with Idempotency-Key", () => {
  it("the same key and input twice: one key, and the retry gets the same id and secret", async () => {
    const key = freshKey("twice");
    const first = (await moderator.client.createApiKey({ input: input("twice") }, header(key))).createApiKey;
    const second = (await moderator.client.createApiKey({ input: input("twice") }, header(key))).createApiKey;
    expect(second.apiKey.id).toBe(first.apiKey.id);
    expect(second.secret).toBe(first.secret);
    expect(second.apiKey).toEqual(first.apiKey);
    expect(await keysNamed("twice")).toBe(1);
    expect(await app.db.auditEvent.count({ where: { action: "api_key.create", targetId: first.apiKey.id } })).toBe(1);
    // The replayed secret is the real one.
    const { apiKeys } = await app.client(second.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(apiKeys.totalCount).toBeGreaterThan(0);
    // The stored answer is encrypted: the secret is not in the record in clear.
    const records = await app.db.$queryRaw<{ row: string }[]>`
      SELECT row_to_json(r)::text AS row FROM idempotency_records r WHERE key = ${key}`;
    expect(records).toHaveLength(1);
    expect(records[0]?.row).not.toContain(first.secret);
    expect(records[0]?.row).not.toContain(first.secret.slice(8, 40));
  });

  it("the same input with its fields in another order is the same request", async () => {
    const key = freshKey("order");
    const a = input("order", { allowedIps: ["10.0.0.0/8"] });
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as CreateApiKeyInput;
    const first = (await moderator.client.createApiKey({ input: a }, header(key))).createApiKey;
    const second = (await moderator.client.createApiKey({ input: reordered }, header(key))).createApiKey;
    expect(second.apiKey.id).toBe(first.apiKey.id);
    expect(await keysNamed("order")).toBe(1);
  });

  it("the same key with a different input is refused on the Idempotency-Key field, writing nothing", async () => {
    const key = freshKey("different");
    await moderator.client.createApiKey({ input: input("different") }, header(key));
    const keys = await app.db.apiKey.count();
    const events = await app.db.auditEvent.count();
    for (const changed of [
      input("different, renamed"),
      input("different", { scopes: ["keys:read", "keys:write"] }),
      input("different", { metadata: { purpose: "other" } }),
      input("different", { environment: "TEST" }),
    ]) {
      const error = await expectCode(
        moderator.client.createApiKey({ input: changed }, header(key)),
        "validation_failed",
      );
      expect(error.field).toBe("Idempotency-Key");
      expect(error.status).toBe(400);
    }
    expect(await app.db.apiKey.count()).toBe(keys);
    expect(await app.db.auditEvent.count()).toBe(events);
  });

  it("different callers use the same Idempotency-Key independently", async () => {
    const key = freshKey("shared");
    const byModerator = (await moderator.client.createApiKey({ input: input("shared") }, header(key))).createApiKey;
    const byOwner = (await owner.client.createApiKey({ input: input("shared") }, header(key))).createApiKey;
    expect(byOwner.apiKey.id).not.toBe(byModerator.apiKey.id);
    expect(byOwner.secret).not.toBe(byModerator.secret);
    // An API key is a caller of its own, too.
    const { createApiKey: writer } = await owner.client.createApiKey({
      input: input("writer", { scopes: ["keys:read", "keys:write"] }),
    });
    const byKey = (await app.client(writer.secret).createApiKey({ input: input("shared") }, header(key))).createApiKey;
    expect([byModerator.apiKey.id, byOwner.apiKey.id]).not.toContain(byKey.apiKey.id);
    expect(await keysNamed("shared")).toBe(3);
    // Each replays its own answer.
    const again = (await owner.client.createApiKey({ input: input("shared") }, header(key))).createApiKey;
    expect(again.apiKey.id).toBe(byOwner.apiKey.id);
    expect(await keysNamed("shared")).toBe(3);
  });

  it("10 concurrent duplicates create exactly one key, and all get its id and secret", async () => {
    const key = freshKey("burst");
    const results = await Promise.all(
      Array.from({ length: 10 }, () => moderator.client.createApiKey({ input: input("burst") }, header(key))),
    );
    const ids = new Set(results.map((r) => r.createApiKey.apiKey.id));
    const secrets = new Set(results.map((r) => r.createApiKey.secret));
    expect(ids.size).toBe(1);
    expect(secrets.size).toBe(1);
    expect(await keysNamed("burst")).toBe(1);
    expect(await app.db.idempotencyRecord.count({ where: { key } })).toBe(1);
  });

  it("a refused first attempt does not use the key up: the corrected request succeeds", async () => {
    const key = freshKey("retry");
    const records = await app.db.idempotencyRecord.count();
    const error = await expectCode(
      moderator.client.createApiKey({ input: input("retry", { scopes: ["keys:destroy"] }) }, header(key)),
      "validation_failed",
    );
    expect(error.field).toBe("scopes");
    expect(await app.db.idempotencyRecord.count()).toBe(records);
    const { createApiKey } = await moderator.client.createApiKey({ input: input("retry") }, header(key));
    expect(createApiKey.apiKey.scopes).toEqual(["keys:read"]);
    expect(await keysNamed("retry")).toBe(1);
    // And that success is now what the key stands for.
    const replay = (await moderator.client.createApiKey({ input: input("retry") }, header(key))).createApiKey;
    expect(replay.apiKey.id).toBe(createApiKey.apiKey.id);
  });

  it("a permission refusal does not use the key up either", async () => {
    const key = freshKey("escalate");
    await expectCode(
      moderator.client.createApiKey({ input: input("escalate", { scopes: ["members:write"] }) }, header(key)),
      "insufficient_permissions",
    );
    const { createApiKey } = await moderator.client.createApiKey({ input: input("escalate") }, header(key));
    expect(createApiKey.apiKey.name).toBe("escalate");
  });

  it("is kept 24 hours: a replay just before, a new key just after", async () => {
    const key = freshKey("day");
    const first = (await moderator.client.createApiKey({ input: input("day") }, header(key))).createApiKey;
    app.clock.advance(24 * 3600_000 - 1000);
    const replay = (await moderator.client.createApiKey({ input: input("day") }, header(key))).createApiKey;
    expect(replay.apiKey.id).toBe(first.apiKey.id);
    app.clock.advance(2000);
    const fresh = (await moderator.client.createApiKey({ input: input("day") }, header(key))).createApiKey;
    expect(fresh.apiKey.id).not.toBe(first.apiKey.id);
    expect(fresh.secret).not.toBe(first.secret);
    expect(await keysNamed("day")).toBe(2);
    // The renewed record now stands for the new key.
    const again = (await moderator.client.createApiKey({ input: input("day") }, header(key))).createApiKey;
    expect(again.apiKey.id).toBe(fresh.apiKey.id);
    expect(await keysNamed("day")).toBe(2);
  });

  it("after 24 hours the key may stand for a different request", async () => {
    const key = freshKey("reuse");
    await moderator.client.createApiKey({ input: input("reuse one") }, header(key));
    app.clock.advance(24 * 3600_000 + 1000);
    const { createApiKey } = await moderator.client.createApiKey({ input: input("reuse two") }, header(key));
    expect(createApiKey.apiKey.name).toBe("reuse two");
  });

  it("a malformed header is validation_failed on Idempotency-Key, writing nothing", async () => {
    const { createApiKey: rollable } = await moderator.client.createApiKey({ input: input("rollable") });
    const keys = await app.db.apiKey.count();
    const records = await app.db.idempotencyRecord.count();
    const events = await app.db.auditEvent.count();
    for (const bad of ["k".repeat(300), "k".repeat(256), "has space", "tab\there"]) {
      const created = await expectCode(
        moderator.client.createApiKey({ input: input("malformed header") }, header(bad)),
        "validation_failed",
      );
      expect(created.field).toBe("Idempotency-Key");
      const rolled = await expectCode(
        moderator.client.rollApiKey({ input: { id: rollable.apiKey.id, gracePeriodSeconds: 0 } }, header(bad)),
        "validation_failed",
      );
      expect(rolled.field).toBe("Idempotency-Key");
    }
    expect(await app.db.apiKey.count()).toBe(keys);
    expect(await app.db.idempotencyRecord.count()).toBe(records);
    expect(await app.db.auditEvent.count()).toBe(events);
    expect((await app.db.apiKey.findUniqueOrThrow({ where: { id: rollable.apiKey.id } })).graceUntil).toBeNull();
    // 255 printable characters is the longest allowed.
    const longest = "k".repeat(255);
    const { createApiKey } = await moderator.client.createApiKey({ input: input("longest header") }, header(longest));
    expect(createApiKey.apiKey.name).toBe("longest header");
  });
});

describe("rollApiKey with Idempotency-Key", () => {
  const make = async (name: string) =>
    (await moderator.client.createApiKey({ input: input(name) })).createApiKey.apiKey.id;

  it("two identical rolls make one successor, and the retry gets the same id and secret", async () => {
    const id = await make("roll twice");
    const key = freshKey("roll");
    const first = (await moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 600 } }, header(key)))
      .rollApiKey;
    const graceUntil = (await app.db.apiKey.findUniqueOrThrow({ where: { id } })).graceUntil;
    app.clock.advance(5000);
    const second = (await moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 600 } }, header(key)))
      .rollApiKey;
    expect(second.apiKey.id).toBe(first.apiKey.id);
    expect(second.secret).toBe(first.secret);
    expect(await app.db.apiKey.count({ where: { rolledFromId: id } })).toBe(1);
    expect(await app.db.auditEvent.count({ where: { action: "api_key.roll", targetId: id } })).toBe(1);
    // The old key's grace period was set once, not moved by the replay.
    expect((await app.db.apiKey.findUniqueOrThrow({ where: { id } })).graceUntil).toEqual(graceUntil);
  });

  it("concurrent identical rolls make one successor", async () => {
    const id = await make("roll burst");
    const key = freshKey("roll-burst");
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 60 } }, header(key)),
      ),
    );
    expect(new Set(results.map((r) => r.rollApiKey.apiKey.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.rollApiKey.secret)).size).toBe(1);
    expect(await app.db.apiKey.count({ where: { rolledFromId: id } })).toBe(1);
  });

  it("a different grace period under the same key is refused", async () => {
    const id = await make("roll changed");
    const key = freshKey("roll-changed");
    await moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 60 } }, header(key));
    const error = await expectCode(
      moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 120 } }, header(key)),
      "validation_failed",
    );
    expect(error.field).toBe("Idempotency-Key");
    expect(await app.db.apiKey.count({ where: { rolledFromId: id } })).toBe(1);
  });

  it("a key used for createApiKey cannot be replayed by rollApiKey", async () => {
    const id = await make("cross operation");
    const key = freshKey("cross");
    await moderator.client.createApiKey({ input: input("cross") }, header(key));
    const error = await expectCode(
      moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 0 } }, header(key)),
      "validation_failed",
    );
    expect(error.field).toBe("Idempotency-Key");
    expect(await app.db.apiKey.count({ where: { rolledFromId: id } })).toBe(0);
  });

  it("without a key, concurrent rolls of one key still make one successor; the others are refused on id", async () => {
    const id = await make("roll race");
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, () => moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 60 } })),
    );
    const won = settled.filter((r) => r.status === "fulfilled");
    const lost = settled.flatMap((r) =>
      r.status === "rejected" ? [r.reason as { code: string; field?: string }] : [],
    );
    expect(won).toHaveLength(1);
    expect(lost.map((e) => ({ code: e.code, field: e.field }))).toEqual(
      Array.from({ length: 4 }, () => ({ code: "validation_failed", field: "id" })),
    );
    expect(await app.db.apiKey.count({ where: { rolledFromId: id } })).toBe(1);
  });
});
