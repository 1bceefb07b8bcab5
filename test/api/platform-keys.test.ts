import { createHash } from "node:crypto";
import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatformAdmin } from "../../server/identity/accounts";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Managing platform keys (kwp_…): platform admins create, list and revoke them; the
// value is shown once and stored only as its SHA-256; every change is audited; and
// nobody else — a workspace owner, a `*` key, a platform key — can mint or revoke one.

const SHAPE = /^kwp_[A-Za-z0-9_-]{32}[0-9A-Za-z]{6}$/;

let app: TestApp;
let admin: KeywardClient;
let adminId: string;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let workspaceId: string;

beforeAll(async () => {
  app = await startTestApp();
  const email = uniqueEmail("ops");
  const made = await createPlatformAdmin(app.db, { email, password: PASSWORD, name: "Ops" }, app.clock.now);
  if (!made.ok) throw new Error(made.error.message);
  adminId = made.value.id;
  const { signIn } = await app.client().signIn({ input: { email, password: PASSWORD } });
  admin = app.client(signIn.token);
  owner = await signUpUser(app, "owner");
  workspaceId = (await owner.client.createWorkspace({ input: { name: "Acme", slug: `acme-${process.pid}` } }))
    .createWorkspace.id;
});
afterAll(() => app.close());

const create = (scopes: string[] = ["keys:verify"], extra: { expiresAt?: string } = {}) =>
  admin.createPlatformKey({ input: { name: "edge verifier", scopes, ...extra } });

describe("creating a platform key", () => {
  it("shows the secret once; the database, lists, audit events and logs hold only its hash and start", async () => {
    const { createPlatformKey } = await create(["keys:verify", "workspaces:read", "keys:verify"]);
    const { secret, platformKey } = createPlatformKey;
    expect(secret).toMatch(SHAPE);
    expect(platformKey).toMatchObject({
      name: "edge verifier",
      start: secret.slice(0, 8),
      scopes: ["keys:verify", "workspaces:read"],
      status: "ACTIVE",
      lastUsedAt: null,
      createdBy: { id: adminId },
    });

    const row = await app.db.platformKey.findUniqueOrThrow({ where: { id: platformKey.id } });
    expect(row.hash).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(secret.slice(8));

    // Used once, so any log line about its use is written too.
    await app.client(secret).verifyApiKey({ input: { key: "sk_live_unknown" } });
    const listed = await admin.platformKeys({});
    const events = await app.db.auditEvent.findMany({ where: { targetId: platformKey.id } });
    expect(events.map((e) => e.action)).toEqual(["platform_key.create"]);
    const rows = JSON.stringify(events, (_key, value) => (typeof value === "bigint" ? String(value) : value));
    for (const text of [JSON.stringify(listed), rows, app.logs.join("\n")]) {
      expect(text).not.toContain(secret.slice(8));
      expect(text).not.toContain(row.hash);
    }
    expect(events[0]).toMatchObject({ actorType: "user", actorId: adminId, workspaceId: null });
    expect(events[0]?.data).toMatchObject({ start: platformKey.start, scopes: ["keys:verify", "workspaces:read"] });
  });

  it("refuses scopes outside the platform vocabulary, `*` included, with validation_failed naming scopes", async () => {
    for (const scopes of [["keys:write"], ["*"], ["workspace:read"], [], ["keys:verify", "members:read"]]) {
      const error = await expectCode(create(scopes), "validation_failed");
      expect(error.field, JSON.stringify(scopes)).toBe("scopes");
    }
  });

  it("refuses an expiry in the past and an empty name", async () => {
    const past = new Date(app.clock.now.getTime() - 1000).toISOString();
    expect((await expectCode(create(["keys:verify"], { expiresAt: past }), "validation_failed")).field).toBe(
      "expiresAt",
    );
    const unnamed = admin.createPlatformKey({ input: { name: "  ", scopes: ["keys:verify"] } });
    expect((await expectCode(unnamed, "validation_failed")).field).toBe("name");
  });
});

describe("listing and revoking", () => {
  it("lists newest first with status filters, and revokes with an audited reason", async () => {
    const first = (await create()).createPlatformKey.platformKey;
    app.clock.advance(1000);
    const second = (await create()).createPlatformKey.platformKey;
    const { platformKeys } = await admin.platformKeys({ first: 2 });
    expect(platformKeys.edges.map((e) => e.node.id)).toEqual([second.id, first.id]);

    const { revokePlatformKey } = await admin.revokePlatformKey({ input: { id: first.id, reason: "rotated" } });
    expect(revokePlatformKey).toMatchObject({ status: "REVOKED", revokedReason: "rotated" });
    const revoked = await admin.platformKeys({ status: "REVOKED" });
    expect(revoked.platformKeys.edges.map((e) => e.node.id)).toContain(first.id);
    const active = await admin.platformKeys({ status: "ACTIVE" });
    expect(active.platformKeys.edges.map((e) => e.node.id)).not.toContain(first.id);
    const events = await app.db.auditEvent.findMany({ where: { targetId: first.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.actorId, (e.data as { reason?: string }).reason ?? null])).toEqual([
      ["platform_key.create", adminId, null],
      ["platform_key.revoke", adminId, "rotated"],
    ]);

    await expectCode(admin.revokePlatformKey({ input: { id: first.id } }), "validation_failed");
  });

  it("an unknown or malformed id is not_found", async () => {
    await expectCode(admin.revokePlatformKey({ input: { id: "00000000-0000-4000-8000-000000000000" } }), "not_found");
    await expectCode(admin.revokePlatformKey({ input: { id: "not-a-uuid" } }), "not_found");
  });
});

describe("only platform admins manage platform keys", () => {
  it("a workspace OWNER cannot mint a platform key to reach other tenants' keys", async () => {
    await expectCode(
      owner.client.createPlatformKey({ input: { name: "x", scopes: ["keys:verify"] } }),
      "insufficient_permissions",
    );
  });

  it("a `*` secret key made by a platform admin cannot mint one (a key never outranks its maker's API)", async () => {
    const { createApiKey } = await admin.createApiKey({
      input: { workspaceId, name: "star", type: "SECRET", environment: "LIVE", scopes: ["*"] },
    });
    const star = app.client(createApiKey.secret);
    await expectCode(
      star.createPlatformKey({ input: { name: "x", scopes: ["keys:verify"] } }),
      "insufficient_permissions",
    );
    await expectCode(star.platformKeys({}), "insufficient_permissions");
  });

  it("a platform key cannot mint another platform key, nor list or revoke them (no self-propagation)", async () => {
    const { secret, platformKey } = (await create(["keys:verify", "workspaces:read"])).createPlatformKey;
    const itself = app.client(secret);
    await expectCode(
      itself.createPlatformKey({ input: { name: "x", scopes: ["keys:verify"] } }),
      "insufficient_permissions",
    );
    await expectCode(itself.platformKeys({}), "insufficient_permissions");
    await expectCode(itself.revokePlatformKey({ input: { id: platformKey.id } }), "insufficient_permissions");
  });

  it("an OWNER cannot revoke the operator's verifier to break verification for everyone", async () => {
    const { secret, platformKey } = (await create()).createPlatformKey;
    await expectCode(owner.client.revokePlatformKey({ input: { id: platformKey.id } }), "insufficient_permissions");
    expect((await app.client(secret).verifyApiKey({ input: { key: "sk_live_x" } })).verifyApiKey.code).toBe(
      "invalid_key_format",
    );
    const row = await app.db.platformKey.findUniqueOrThrow({ where: { id: platformKey.id } });
    expect(row.revokedAt).toBeNull();
  });

  it("a signed-in non-admin cannot enumerate platform keys; anonymous callers must authenticate", async () => {
    await expectCode(owner.client.platformKeys({}), "insufficient_permissions");
    const anonymous = await expectCode(app.client().platformKeys({}), "authentication_required");
    expect(anonymous.status).toBe(401);
    await expectCode(
      app.client().createPlatformKey({ input: { name: "x", scopes: ["keys:verify"] } }),
      "authentication_required",
    );
  });
});
