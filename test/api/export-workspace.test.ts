import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operatorCommands } from "../../server/platform/operations";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";

// export-workspace (server/workspaces/export.ts): a backup with every setting a
// workspace needs back and no secret, whose keys import-keys restores into a fresh
// database where they verify again.

let app: TestApp;
let restore: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
const slug = `exp-${process.pid}`;
const secrets: Record<string, string> = {};
let webhookSecret: string;
let exported: Record<string, unknown>;

const commands = (on: TestApp) =>
  operatorCommands(
    on.db,
    () => {},
    (message) => on.keys.bus.invalidate(message),
  );

beforeAll(async () => {
  app = await startTestApp({ KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true", KEYWARD_WEBHOOK_INTERVAL_MS: "3600000" });
  restore = await startTestApp();
  owner = await signUpUser(app, "exporter");
  const member = await signUpUser(app, "member");
  const { createWorkspace: ws } = await owner.client.createWorkspace({ input: { name: "Export", slug } });
  await owner.client.addMember({ input: { workspaceId: ws.id, email: member.email, role: "MODERATOR" } });
  await owner.client.createService({ input: { workspaceId: ws.id, slug: "forms", name: "Forms" } });
  await owner.client.createAudience({ input: { workspaceId: ws.id, name: "enterprise" } });
  await owner.client.createAudience({ input: { workspaceId: ws.id, name: "enterprise_b", parent: "enterprise" } });
  const hook = await owner.client.createWebhookEndpoint({
    input: { workspaceId: ws.id, environment: "LIVE", url: "http://127.0.0.1:9/hooks", events: ["key.revoked"] },
  });
  webhookSecret = hook.createWebhookEndpoint.secret;
  const make = async (name: string, extra: Record<string, unknown> = {}) => {
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId: ws.id, name, type: "SECRET", environment: "LIVE", scopes: ["keys:read"], ...extra },
    });
    secrets[name] = createApiKey.secret;
    return createApiKey.apiKey.id;
  };
  await make("plain", { metadata: { tier: "gold" }, rateLimit: { limit: 50, windowSeconds: 60 } });
  await make("forms", { scopes: ["service.forms.read"] });
  await make("signer", { canSignTokens: true });
  const revoked = await make("revoked");
  await owner.client.revokeApiKey({ input: { id: revoked, reason: "left" } });
  const rolled = await make("rolled");
  const { rollApiKey } = await owner.client.rollApiKey({ input: { id: rolled, gracePeriodSeconds: 3600 } });
  secrets.successor = rollApiKey.secret;
  secrets.foreign = `acme_${randomBytes(20).toString("hex")}`;
  const line = {
    key: secrets.foreign,
    prefix: "acme_",
    workspace: slug,
    environment: "live",
    type: "secret",
    name: "f",
  };
  expect((await commands(app).importKeys({ text: JSON.stringify(line) })).ok).toBe(true);
  const result = await commands(app).exportWorkspace({ slug });
  if (!result.ok) throw new Error(result.error.message);
  exported = result.value;
}, 60_000);

afterAll(async () => {
  await app.close();
  await restore.close();
});

describe("export-workspace", () => {
  it("holds the settings, members, services, audiences, webhook endpoints and the audit chain's head", () => {
    expect(exported).toMatchObject({
      format: "keyward-workspace-export",
      workspace: { slug, keysEnabled: true, leakPolicy: "REVOKE" },
      services: [{ slug: "forms", active: true }],
      audiences: [
        { name: "enterprise", parent: null },
        { name: "enterprise_b", parent: "enterprise" },
      ],
      webhookEndpoints: [{ url: "http://127.0.0.1:9/hooks", events: ["key.revoked"], enabled: true }],
    });
    const members = exported.members as { email: string; role: string }[];
    expect(members.map((m) => m.role).sort()).toEqual(["MODERATOR", "OWNER"]);
    expect(members.find((m) => m.role === "OWNER")?.email).toBe(owner.email);
    const audit = exported.audit as { chainHead: { hash: string }; workspaceLast: { hash: string } };
    expect(audit.chainHead.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(audit.workspaceLast.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("leaks no secret: no key value, password hash, session token, webhook secret or sealed copy", async () => {
    const text = JSON.stringify(exported);
    for (const secret of Object.values(secrets)) expect(text).not.toContain(secret.slice(8));
    expect(text).not.toContain(webhookSecret.slice(6));
    expect(text).not.toMatch(/argon2|passwordHash|sealed|kws_|whsec_/i);
    const sealed = await app.db.apiKey.findFirstOrThrow({ where: { name: "signer" } });
    expect(text).not.toContain(sealed.sealedSecret);
  });

  it("lists working keys as import lines with their hash, retired keys for the record only", () => {
    const keys = exported.keys as { name: string; hash: string; format: string; expiresAt: string | null }[];
    expect(keys.map((k) => k.name).sort()).toEqual(["f", "forms", "plain", "rolled", "rolled", "signer"]);
    const sha = (value: string) => createHash("sha256").update(value).digest("hex");
    expect(keys.find((k) => k.name === "f")).toMatchObject({ format: "foreign", hash: sha(secrets.foreign ?? "") });
    expect(keys.find((k) => k.name === "plain")).toMatchObject({ format: "keyward", rateLimit: { limit: 50 } });
    // The old half of the roll works until its grace ends: that is its expiry now.
    expect(keys.filter((k) => k.name === "rolled" && k.expiresAt !== null)).toHaveLength(1);
    expect(exported.retiredKeys).toEqual([expect.objectContaining({ name: "revoked", status: "REVOKED" })]);
    expect(JSON.stringify(exported.retiredKeys)).not.toContain('"hash"');
    expect(exported.keysNotRestored).toEqual([expect.objectContaining({ start: secrets.signer?.slice(0, 12) })]);
  });

  it("--without-hashes leaves every key hash out", async () => {
    const result = await commands(app).exportWorkspace({ slug, withoutHashes: true });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.keys).toHaveLength(6);
    expect(JSON.stringify(result.value.keys)).not.toMatch(/"hash"/);
  });

  it("an unknown workspace is not_found", async () => {
    expect(await commands(app).exportWorkspace({ slug: "nowhere" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });

  it("round trip: import-keys reads the export into a fresh database and every working key verifies there", async () => {
    const fresh = await signUpUser(restore, "restorer");
    const { createWorkspace } = await fresh.client.createWorkspace({ input: { name: "Restored", slug } });
    await fresh.client.createService({ input: { workspaceId: createWorkspace.id, slug: "forms", name: "Forms" } });
    const text = JSON.stringify(exported, null, 2);
    const imported = await commands(restore).importKeys({ text });
    expect(imported).toMatchObject({ ok: true, value: { imported: 6, skipped: 0, prefixes: ["acme_"] } });
    for (const name of ["plain", "forms", "signer", "rolled", "successor", "foreign"]) {
      const { verifyApiKey } = await fresh.client.verifyApiKey({ input: { key: secrets[name] ?? "" } });
      expect([name, verifyApiKey.code, verifyApiKey.workspaceId]).toEqual([name, "VALID", createWorkspace.id]);
    }
    const { verifyApiKey: gone } = await fresh.client.verifyApiKey({ input: { key: secrets.revoked ?? "" } });
    expect(gone.code).toBe("not_found");
    expect((await commands(restore).importKeys({ text })).ok && "again").toBe("again");
  });
});
