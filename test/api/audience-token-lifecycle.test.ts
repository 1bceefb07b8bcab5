import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app";
import {
  type AudienceTenant,
  type Claims,
  seconds,
  seedAudienceTenant,
  sign,
  TRANSPORTS,
  verifyThrough,
} from "../helpers/audience";

// Audience tokens over time: a roll keeps the old signer's tokens valid through
// its grace, and every change that matters (a signing key revoked, switched off or
// added, an audience deleted or renamed) is honoured by the very next
// verification, although warm verifications read only memory (0 SQL statements).

let app: TestApp;
let t: AudienceTenant;
/** A LIVE secret key with keys:verify: a cached verifier, so warm requests send no SQL. */
let verifier: string;

beforeAll(async () => {
  app = await startTestApp({}, { countQueries: true });
  // Only explicit flushes write usage, so no timer-driven write lands inside a counted window.
  await app.keys.usage.stop();
  t = await seedAudienceTenant(app, "aud-life", [
    ["enterprise", null],
    ["enterprise_b", "enterprise"],
  ]);
  verifier = (await t.makeKey({ name: "verifier", scopes: ["keys:verify"] })).secret;
});
afterAll(() => app.close());

const claims = (audience = "enterprise_b", extra: Claims = {}): Claims => ({
  audience,
  iat: seconds(app),
  exp: seconds(app, 600),
  ...extra,
});

const ask = (token: string, transport: (typeof TRANSPORTS)[number] = "verifyApiKey") =>
  verifyThrough(app, transport, { key: t.pk.secret, token, verifier });

describe("a warm verification with a token reads no database", () => {
  it("valid and refused tokens on all three paths cost 0 SQL statements once warm", async () => {
    const valid = await sign(t.signer.secret, claims(), { kid: t.signer.id });
    const forged = await sign(t.plain.secret, claims());
    const unknown = await sign(t.signer.secret, claims("enterprise_z"));
    for (const transport of TRANSPORTS) expect((await ask(valid, transport)).code).toBe("VALID");
    const { result, statements } = await app.counting(async () => {
      const codes: string[] = [];
      for (let i = 0; i < 10; i++) {
        for (const transport of TRANSPORTS) {
          codes.push((await ask(valid, transport)).code, (await ask(forged, transport)).code);
          codes.push((await ask(unknown, transport)).code);
        }
      }
      return new Set(codes);
    });
    expect(result).toEqual(new Set(["VALID", "invalid_audience_token"]));
    expect(statements, statements.join("\n")).toEqual([]);
  });
});

describe("a token verified once is remembered, never trusted beyond its claims", () => {
  it.each(TRANSPORTS)("%s: a remembered token still expires at exp (with the 30 s skew)", async (transport) => {
    const token = await sign(t.signer.secret, claims("enterprise_b", { exp: seconds(app, 100) }));
    expect((await ask(token, transport)).code).toBe("VALID");
    app.clock.advance(120_000);
    expect((await ask(token, transport)).code).toBe("VALID");
    app.clock.advance(20_000);
    expect((await ask(token, transport)).code).toBe("invalid_audience_token");
  });

  it("a token remembered for one workspace's key proves nothing with another workspace's key", async () => {
    const other = await seedAudienceTenant(app, "aud-life-other", [["enterprise_b", null]]);
    const token = await sign(t.signer.secret, claims());
    expect((await ask(token)).code).toBe("VALID");
    const elsewhere = await verifyThrough(app, "verifyApiKey", {
      key: other.pk.secret,
      token,
      verifier: other.owner.token,
    });
    expect(elsewhere.code).toBe("invalid_audience_token");
  });
});

describe("rolling a signing key", () => {
  it.each(TRANSPORTS)(
    "%s: tokens of the old key pass during its grace, not after; the new key signs",
    async (transport) => {
      const old = await t.makeKey({ name: "rolled signer", canSignTokens: true });
      const before = await sign(old.secret, claims(), { kid: old.id });
      expect((await ask(before, transport)).code).toBe("VALID");

      const { rollApiKey } = await t.owner.client.rollApiKey({ input: { id: old.id, gracePeriodSeconds: 60 } });
      expect(rollApiKey.apiKey.canSignTokens).toBe(true);
      const fresh = { id: rollApiKey.apiKey.id, secret: rollApiKey.secret };
      expect((await ask(before, transport)).code).toBe("VALID");
      expect((await ask(await sign(fresh.secret, claims(), { kid: fresh.id }), transport)).code).toBe("VALID");

      app.clock.advance(61_000);
      const late = await sign(old.secret, claims());
      expect((await ask(late, transport)).code).toBe("invalid_audience_token");
      expect((await ask(await sign(fresh.secret, claims()), transport)).code).toBe("VALID");
    },
  );
});

describe("changes reach the very next verification", () => {
  it("a revoked signing key's tokens are refused at once", async () => {
    const signer = await t.makeKey({ name: "to revoke", canSignTokens: true });
    const token = await sign(signer.secret, claims());
    expect((await ask(token)).code).toBe("VALID");
    await t.owner.client.revokeApiKey({ input: { id: signer.id, reason: "leaked" } });
    expect((await ask(token)).code).toBe("invalid_audience_token");
  });

  it("a key switched off with canSignTokens: false signs nothing more", async () => {
    const signer = await t.makeKey({ name: "to switch off", canSignTokens: true });
    const token = await sign(signer.secret, claims());
    expect((await ask(token)).code).toBe("VALID");
    await t.owner.client.updateApiKey({ input: { id: signer.id, canSignTokens: false } });
    expect((await ask(token)).code).toBe("invalid_audience_token");
  });

  it("a signing key made after the signers were cached signs at once", async () => {
    expect((await ask(await sign(t.signer.secret, claims()))).code).toBe("VALID");
    const added = await t.makeKey({ name: "added", canSignTokens: true });
    expect((await ask(await sign(added.secret, claims(), { kid: added.id }))).code).toBe("VALID");
  });

  it("a deleted audience is unknown at once; a renamed one answers only to its new name", async () => {
    const { createAudience } = await t.owner.client.createAudience({
      input: { workspaceId: t.workspaceId, name: "short_lived", parent: "enterprise" },
    });
    const named = (audience: string) => sign(t.signer.secret, claims(audience));
    expect((await ask(await named("short_lived"))).audiencePath).toEqual(["short_lived", "enterprise"]);

    await t.owner.client.renameAudience({ input: { id: createAudience.id, name: "renamed" } });
    expect((await ask(await named("short_lived"))).code).toBe("invalid_audience_token");
    expect((await ask(await named("renamed"))).audiencePath).toEqual(["renamed", "enterprise"]);

    await t.owner.client.deleteAudience({ input: { id: createAudience.id } });
    expect((await ask(await named("renamed"))).code).toBe("invalid_audience_token");
  });

  it("renaming a parent changes the path its children answer", async () => {
    const { audiences } = await t.owner.client.audiences({ workspaceId: t.workspaceId });
    const root = audiences.find((node) => node.name === "enterprise");
    expect((await ask(await sign(t.signer.secret, claims()))).audiencePath).toEqual(["enterprise_b", "enterprise"]);
    await t.owner.client.renameAudience({ input: { id: root?.id ?? "", name: "enterprise_co" } });
    try {
      const answer = await ask(await sign(t.signer.secret, claims()));
      expect(answer.audiencePath).toEqual(["enterprise_b", "enterprise_co"]);
    } finally {
      await t.owner.client.renameAudience({ input: { id: root?.id ?? "", name: "enterprise" } });
    }
  });
});

describe("signing secrets stay secret", () => {
  it("no log line ever holds a signing key's value", () => {
    const logs = app.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [t.signer.secret, t.testSigner.secret]) expect(logs).not.toContain(secret);
  });
});
