import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SIGNING_KEYS } from "../../server/keys/signing";
import { startTestApp, type TestApp } from "../helpers/app";
import { type AudienceTenant, seedAudienceTenant } from "../helpers/audience";
import { expectCode } from "../helpers/expect-error";

// Which keys sign audience tokens. Keys are stored as hashes, so a signing key
// keeps its value sealed under the master key; that copy is made only while the
// value exists (creation, or the new key of a roll), is dropped when the key stops
// signing or is revoked, and no caller gives signing to a key beyond its own power.

let app: TestApp;
let t: AudienceTenant;

beforeAll(async () => {
  app = await startTestApp();
  t = await seedAudienceTenant(app, "signing", [["enterprise", null]]);
});
afterAll(() => app.close());

const row = (id: string) => app.db.apiKey.findUniqueOrThrow({ where: { id } });

describe("the sealed copy", () => {
  it("a signing key keeps its value sealed (AES-256-GCM): not the value, and it opens to it", async () => {
    const stored = await row(t.signer.id);
    expect(stored.canSignTokens).toBe(true);
    expect(stored.sealedSecret).toEqual(expect.any(String));
    expect(stored.sealedSecret).not.toContain(t.signer.secret);
    expect(stored.sealedSecret).not.toContain("sk_live_");
    expect(app.deps.box.open(stored.sealedSecret ?? "")).toBe(t.signer.secret);
  });

  it("a key that does not sign keeps no copy, only its hash", async () => {
    expect(await row(t.plain.id)).toMatchObject({ canSignTokens: false, sealedSecret: null });
    expect(await row(t.pk.id)).toMatchObject({ canSignTokens: false, sealedSecret: null });
  });

  it("revoking a signing key drops its copy", async () => {
    const signer = await t.makeKey({ canSignTokens: true });
    await t.owner.client.revokeApiKey({ input: { id: signer.id } });
    expect(await row(signer.id)).toMatchObject({ sealedSecret: null });
  });

  it("an immediate revocation (the brake, and a leak report) drops the copy too", async () => {
    const signer = await t.makeKey({ name: "braked signer", canSignTokens: true });
    expect((await row(signer.id)).sealedSecret).toEqual(expect.any(String));
    await t.owner.client.revokeApiKey({ input: { id: signer.id, immediate: true } });
    expect(await row(signer.id)).toMatchObject({ revokedImmediately: true, sealedSecret: null });
  });

  it("a roll gives the successor its own copy and keeps the old one for the grace period", async () => {
    const old = await t.makeKey({ canSignTokens: true });
    const { rollApiKey } = await t.owner.client.rollApiKey({ input: { id: old.id, gracePeriodSeconds: 60 } });
    const successor = await row(rollApiKey.apiKey.id);
    expect(successor.canSignTokens).toBe(true);
    expect(app.deps.box.open(successor.sealedSecret ?? "")).toBe(rollApiKey.secret);
    expect(app.deps.box.open((await row(old.id)).sealedSecret ?? "")).toBe(old.secret);
  });
});

describe("switching signing on and off", () => {
  it("a publishable key cannot sign (validation_failed on canSignTokens)", async () => {
    const error = await expectCode(
      t.owner.client.createApiKey({
        input: {
          workspaceId: t.workspaceId,
          name: "browser",
          type: "PUBLISHABLE",
          environment: "LIVE",
          allowedOrigins: ["https://chat.example.com"],
          canSignTokens: true,
        },
      }),
      "validation_failed",
    );
    expect(error.field).toBe("canSignTokens");
  });

  it("updateApiKey cannot switch signing on: the value it would need is not kept", async () => {
    const error = await expectCode(
      t.owner.client.updateApiKey({ input: { id: t.plain.id, canSignTokens: true } }),
      "validation_failed",
    );
    expect(error.field).toBe("canSignTokens");
    expect(error.message).toContain("only when a key is created");
    expect(await row(t.plain.id)).toMatchObject({ canSignTokens: false, sealedSecret: null });
  });

  it("updateApiKey switches signing off, drops the copy and records the change", async () => {
    const signer = await t.makeKey({ canSignTokens: true });
    const { updateApiKey } = await t.owner.client.updateApiKey({ input: { id: signer.id, canSignTokens: false } });
    expect(updateApiKey.canSignTokens).toBe(false);
    expect(await row(signer.id)).toMatchObject({ canSignTokens: false, sealedSecret: null });
    const event = await app.db.auditEvent.findFirstOrThrow({
      where: { action: "api_key.update", targetId: signer.id },
    });
    expect(event.data).toMatchObject({ changed: ["canSignTokens"], canSignTokens: false });
  });

  it("creating a signing key is audited as one", async () => {
    const event = await app.db.auditEvent.findFirstOrThrow({
      where: { action: "api_key.create", targetId: t.signer.id },
    });
    expect(event.data).toMatchObject({ canSignTokens: true });
    expect(JSON.stringify(event.data)).not.toContain(t.signer.secret);
  });
});

describe("no escalation through keys", () => {
  it("a key that cannot sign, holding keys:write, cannot make a signing key nor roll one", async () => {
    const manager = app.client((await t.makeKey({ scopes: ["keys:write", "keys:read"] })).secret);
    const made = await expectCode(
      manager.createApiKey({
        input: { workspaceId: t.workspaceId, name: "x", type: "SECRET", environment: "LIVE", canSignTokens: true },
      }),
      "insufficient_permissions",
    );
    expect(made.field).toBe("canSignTokens");
    await expectCode(
      manager.rollApiKey({ input: { id: t.signer.id, gracePeriodSeconds: 0 } }),
      "insufficient_permissions",
    );
    expect(await row(t.signer.id)).toMatchObject({ graceUntil: null, canSignTokens: true });
  });

  it("a signing key holding keys:write may make another signing key", async () => {
    const manager = app.client((await t.makeKey({ scopes: ["keys:write"], canSignTokens: true })).secret);
    const { createApiKey } = await manager.createApiKey({
      input: { workspaceId: t.workspaceId, name: "child", type: "SECRET", environment: "LIVE", canSignTokens: true },
    });
    expect(createApiKey.apiKey.canSignTokens).toBe(true);
  });

  it("a signing key cannot switch off its own signing", async () => {
    const self = await t.makeKey({ scopes: ["keys:write"], canSignTokens: true });
    const error = await expectCode(
      app.client(self.secret).updateApiKey({ input: { id: self.id, canSignTokens: false } }),
      "insufficient_permissions",
    );
    expect(error.field).toBe("canSignTokens");
  });
});

describe("how many", () => {
  it(`at most ${MAX_SIGNING_KEYS} live signing keys per workspace and environment; revoking one frees a place`, async () => {
    const fresh = await seedAudienceTenant(app, "signing-cap", []);
    const make = (environment: "LIVE" | "TEST") => fresh.makeKey({ environment, canSignTokens: true });
    // The tenant already holds one LIVE and one TEST signing key.
    for (let i = 1; i < MAX_SIGNING_KEYS; i++) await make("LIVE");
    const error = await expectCode(make("LIVE"), "validation_failed");
    expect(error.field).toBe("canSignTokens");
    expect((await row((await make("TEST")).id)).canSignTokens).toBe(true);
    await fresh.owner.client.revokeApiKey({ input: { id: fresh.signer.id } });
    expect((await row((await make("LIVE")).id)).canSignTokens).toBe(true);
  });
});
