import type { CreateApiKeyInput, KeywardClient, VerifyApiKeyMutation } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatformAdmin } from "../../server/identity/accounts";
import { generateKey } from "../../server/keys/format";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// verifyApiKey through the SDK: every code of the verify path, the order of the
// checks, who may verify which keys, rate limits in the answer, and usage counts.
// A refused key is always data (valid: false + code); only a problem with the
// caller is a GraphQL error.

type Verdict = VerifyApiKeyMutation["verifyApiKey"];

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let wsA: { id: string };
let wsB: { id: string };
let ownerB: Awaited<ReturnType<typeof signUpUser>>;
/** LIVE secret key of workspace A holding keys:verify only. */
let verifier: KeywardClient;

let slugCounter = 0;
const freshSlug = (prefix: string) => `${prefix}-${process.pid}-${++slugCounter}`;

async function makeKey(
  by: KeywardClient,
  workspaceId: string,
  input: Partial<Omit<CreateApiKeyInput, "workspaceId">> = {},
): Promise<{ id: string; secret: string }> {
  const { createApiKey } = await by.createApiKey({
    input: {
      workspaceId,
      name: input.name ?? "customer key",
      type: input.type ?? "SECRET",
      environment: input.environment ?? "LIVE",
      scopes: input.scopes ?? ["keys:read"],
      ...input,
    },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

async function verify(
  by: KeywardClient,
  key: string,
  extra: { requiredScopes?: string[]; origin?: string | null; ip?: string | null } = {},
): Promise<Verdict> {
  const { verifyApiKey } = await by.verifyApiKey({ input: { key, ...extra } });
  return verifyApiKey;
}

/** Every field of a refused answer that names no key. */
const REFUSED_ANONYMOUS = {
  valid: false,
  keyId: null,
  workspaceId: null,
  environment: null,
  type: null,
  scopes: null,
  expiresAt: null,
  metadata: null,
  ratelimit: null,
};

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "verify-owner");
  wsA = (await owner.client.createWorkspace({ input: { name: "A", slug: freshSlug("verify-a") } })).createWorkspace;
  ownerB = await signUpUser(app, "verify-owner-b");
  wsB = (await ownerB.client.createWorkspace({ input: { name: "B", slug: freshSlug("verify-b") } })).createWorkspace;
  const v = await makeKey(owner.client, wsA.id, { name: "verifier", scopes: ["keys:verify"] });
  verifier = app.client(v.secret);
});
afterAll(() => app.close());

describe("each code of the verify path", () => {
  it("VALID carries the key's identity, scopes, expiry and the rate limit after this call", async () => {
    const expiresAt = new Date(app.clock.now.getTime() + 24 * 3600_000).toISOString();
    const key = await makeKey(owner.client, wsA.id, {
      scopes: ["keys:read", "keys:write"],
      expiresAt,
      metadata: { plan: "pro" },
    });
    const before = Date.now();
    const result = await verify(verifier, key.secret, { requiredScopes: ["keys:read"] });
    expect(result).toMatchObject({
      valid: true,
      code: "VALID",
      keyId: key.id,
      workspaceId: wsA.id,
      environment: "LIVE",
      type: "SECRET",
      metadata: { plan: "pro" },
      ratelimit: { limit: 1000, remaining: 999 },
    });
    expect([...(result.scopes ?? [])].sort()).toEqual(["keys:read", "keys:write"]);
    expect(new Date(result.expiresAt as string).toISOString()).toBe(expiresAt);
    const resetAt = new Date(result.ratelimit?.resetAt as string).getTime();
    expect(resetAt).toBeGreaterThan(before);
    // The secret default window is one hour.
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    // The next call spends one more.
    expect((await verify(verifier, key.secret)).ratelimit?.remaining).toBe(998);
  });

  it("invalid_key_format: bad checksum, wrong prefix, empty, 10 KB — as data, without a key", async () => {
    const good = generateKey("SECRET", "LIVE");
    const last = good.at(-1) === "A" ? "B" : "A";
    const malformed = {
      badChecksum: good.slice(0, -1) + last,
      wrongPrefix: `xk${good.slice(2)}`,
      empty: "",
      tenKb: "sk_live_".padEnd(10 * 1024, "x"),
    };
    for (const [name, key] of Object.entries(malformed)) {
      const result = await verify(verifier, key);
      expect({ name, ...result }).toMatchObject({ name, ...REFUSED_ANONYMOUS, code: "invalid_key_format" });
      expect(result.message).toMatch(/^Invalid API key: /);
    }
  });

  it("not_found: an unknown key and another workspace's key answer identically", async () => {
    const unknown = await verify(verifier, generateKey("SECRET", "LIVE"));
    const ofB = await makeKey(ownerB.client, wsB.id);
    const foreign = await verify(verifier, ofB.secret);
    expect(unknown).toMatchObject({ ...REFUSED_ANONYMOUS, code: "not_found" });
    expect(foreign).toEqual(unknown);
    // B's owner verifies it fine: the key exists, A's verifier just may not see it.
    expect((await verify(ownerB.client, ofB.secret)).code).toBe("VALID");
  });

  it("invalid_api_key: a revoked key", async () => {
    const key = await makeKey(owner.client, wsA.id);
    expect((await verify(verifier, key.secret)).code).toBe("VALID");
    await owner.client.revokeApiKey({ input: { id: key.id, reason: "leaked" } });
    const result = await verify(verifier, key.secret);
    expect(result).toMatchObject({ valid: false, code: "invalid_api_key", keyId: key.id, ratelimit: null });
  });

  it("keys_disabled while the workspace switch is off, VALID again once it is on", async () => {
    const ws = (await owner.client.createWorkspace({ input: { name: "Switch", slug: freshSlug("verify-switch") } }))
      .createWorkspace;
    const key = await makeKey(owner.client, ws.id);
    expect((await verify(owner.client, key.secret)).code).toBe("VALID");
    await owner.client.setKeysEnabled({ input: { workspaceId: ws.id, enabled: false } });
    expect(await verify(owner.client, key.secret)).toMatchObject({
      valid: false,
      code: "keys_disabled",
      keyId: key.id,
      workspaceId: ws.id,
      ratelimit: null,
    });
    await owner.client.setKeysEnabled({ input: { workspaceId: ws.id, enabled: true } });
    expect(await verify(owner.client, key.secret)).toMatchObject({ valid: true, code: "VALID" });
  });

  it("key_expired once expiresAt has passed", async () => {
    const key = await makeKey(owner.client, wsA.id, {
      expiresAt: new Date(app.clock.now.getTime() + 10_000).toISOString(),
    });
    expect((await verify(verifier, key.secret)).code).toBe("VALID");
    app.clock.advance(10_001);
    expect(await verify(verifier, key.secret)).toMatchObject({ valid: false, code: "key_expired", keyId: key.id });
  });

  it("a rolled key stays VALID during its grace period and is key_expired after it", async () => {
    const old = await makeKey(owner.client, wsA.id, { scopes: ["keys:read"] });
    const { rollApiKey } = await owner.client.rollApiKey({ input: { id: old.id, gracePeriodSeconds: 60 } });
    app.clock.advance(30_000);
    expect(await verify(verifier, old.secret)).toMatchObject({ valid: true, code: "VALID", keyId: old.id });
    expect(await verify(verifier, rollApiKey.secret)).toMatchObject({ code: "VALID", keyId: rollApiKey.apiKey.id });
    app.clock.advance(31_000);
    expect(await verify(verifier, old.secret)).toMatchObject({ valid: false, code: "key_expired", keyId: old.id });
    expect(await verify(verifier, rollApiKey.secret)).toMatchObject({ code: "VALID", keyId: rollApiKey.apiKey.id });
  });

  it("origin_not_allowed: a publishable key from a wrong Origin or none; VALID from its own", async () => {
    const key = await makeKey(owner.client, wsA.id, {
      type: "PUBLISHABLE",
      scopes: ["keys:read"],
      allowedOrigins: ["https://app.example.com"],
    });
    expect(await verify(verifier, key.secret, { origin: "https://evil.example.com" })).toMatchObject({
      valid: false,
      code: "origin_not_allowed",
      keyId: key.id,
    });
    expect(await verify(verifier, key.secret)).toMatchObject({ valid: false, code: "origin_not_allowed" });
    expect(await verify(verifier, key.secret, { origin: "https://app.example.com" })).toMatchObject({
      valid: true,
      code: "VALID",
      type: "PUBLISHABLE",
      // The publishable default is 100 per hour.
      ratelimit: { limit: 100, remaining: 99 },
    });
  });

  it("ip_not_allowed: a secret key from outside its allowlist (or with no IP); VALID from inside", async () => {
    const key = await makeKey(owner.client, wsA.id, { allowedIps: ["203.0.113.0/24"] });
    expect(await verify(verifier, key.secret, { ip: "198.51.100.1" })).toMatchObject({
      valid: false,
      code: "ip_not_allowed",
      keyId: key.id,
    });
    expect((await verify(verifier, key.secret)).code).toBe("ip_not_allowed");
    expect(await verify(verifier, key.secret, { ip: "203.0.113.9" })).toMatchObject({ valid: true, code: "VALID" });
  });

  it("insufficient_scope: a required scope the key lacks", async () => {
    const key = await makeKey(owner.client, wsA.id, { scopes: ["keys:read"] });
    const result = await verify(verifier, key.secret, { requiredScopes: ["keys:read", "keys:write"] });
    expect(result).toMatchObject({ valid: false, code: "insufficient_scope", keyId: key.id, scopes: ["keys:read"] });
    expect(result.message).toContain("keys:write");
    expect((await verify(verifier, key.secret, { requiredScopes: ["keys:read"] })).code).toBe("VALID");
  });

  it("rate_limit_exceeded: the key's own limit, counted down in the answer", async () => {
    const key = await makeKey(owner.client, wsA.id, { rateLimit: { limit: 3, windowSeconds: 60 } });
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await verify(verifier, key.secret);
      expect(result.code).toBe("VALID");
      expect(result.ratelimit?.limit).toBe(3);
      remaining.push(result.ratelimit?.remaining ?? -1);
    }
    expect(remaining).toEqual([2, 1, 0]);
    const refused = await verify(verifier, key.secret);
    expect(refused).toMatchObject({
      valid: false,
      code: "rate_limit_exceeded",
      keyId: key.id,
      ratelimit: { limit: 3, remaining: 0 },
    });
    expect(new Date(refused.ratelimit?.resetAt as string).getTime()).toBeGreaterThan(Date.now());
  });
});

describe("the order of the checks", () => {
  it("revoked beats the workspace switch: invalid_api_key", async () => {
    const ws = (await owner.client.createWorkspace({ input: { name: "Order 1", slug: freshSlug("order") } }))
      .createWorkspace;
    const key = await makeKey(owner.client, ws.id);
    await owner.client.revokeApiKey({ input: { id: key.id } });
    await owner.client.setKeysEnabled({ input: { workspaceId: ws.id, enabled: false } });
    expect((await verify(owner.client, key.secret)).code).toBe("invalid_api_key");
  });

  it("the workspace switch beats expiry: keys_disabled", async () => {
    const ws = (await owner.client.createWorkspace({ input: { name: "Order 2", slug: freshSlug("order") } }))
      .createWorkspace;
    const key = await makeKey(owner.client, ws.id, {
      expiresAt: new Date(app.clock.now.getTime() + 5_000).toISOString(),
    });
    app.clock.advance(5_001);
    expect((await verify(owner.client, key.secret)).code).toBe("key_expired");
    await owner.client.setKeysEnabled({ input: { workspaceId: ws.id, enabled: false } });
    expect((await verify(owner.client, key.secret)).code).toBe("keys_disabled");
  });

  it("expiry beats the origin allowlist: key_expired", async () => {
    const key = await makeKey(owner.client, wsA.id, {
      type: "PUBLISHABLE",
      allowedOrigins: ["https://app.example.com"],
      expiresAt: new Date(app.clock.now.getTime() + 5_000).toISOString(),
    });
    app.clock.advance(5_001);
    expect((await verify(verifier, key.secret, { origin: "https://evil.example.com" })).code).toBe("key_expired");
  });

  it("the IP allowlist beats scopes: ip_not_allowed", async () => {
    const key = await makeKey(owner.client, wsA.id, { scopes: ["keys:read"], allowedIps: ["203.0.113.0/24"] });
    const result = await verify(verifier, key.secret, { ip: "198.51.100.1", requiredScopes: ["keys:write"] });
    expect(result.code).toBe("ip_not_allowed");
  });

  it("scopes beat the rate limit, and a refused scope spends none of it", async () => {
    const key = await makeKey(owner.client, wsA.id, {
      scopes: ["keys:read"],
      rateLimit: { limit: 2, windowSeconds: 60 },
    });
    for (let i = 0; i < 3; i++) {
      expect((await verify(verifier, key.secret, { requiredScopes: ["keys:write"] })).code).toBe("insufficient_scope");
    }
    // The three refusals spent nothing: the full limit of 2 is still there.
    expect((await verify(verifier, key.secret)).ratelimit).toMatchObject({ limit: 2, remaining: 1 });
    expect((await verify(verifier, key.secret)).ratelimit).toMatchObject({ limit: 2, remaining: 0 });
    expect((await verify(verifier, key.secret)).code).toBe("rate_limit_exceeded");
    // Exhausted, yet a missing scope is still reported as such.
    const result = await verify(verifier, key.secret, { requiredScopes: ["keys:write"] });
    expect(result).toMatchObject({ code: "insufficient_scope", ratelimit: null });
  });
});

describe("who may verify which keys", () => {
  let target: { id: string; secret: string };
  beforeAll(async () => {
    target = await makeKey(owner.client, wsA.id);
  });

  it("no credential: authentication_required, as a GraphQL error about the caller", async () => {
    const error = await expectCode(
      app.client().verifyApiKey({ input: { key: target.secret } }),
      "authentication_required",
    );
    expect(error.status).toBe(401);
  });

  it("a publishable key caller: publishable_key_write", async () => {
    const pk = await makeKey(owner.client, wsA.id, {
      type: "PUBLISHABLE",
      scopes: ["keys:read"],
      allowedOrigins: ["https://app.example.com"],
    });
    const caller = app.client(pk.secret, { origin: "https://app.example.com" });
    const error = await expectCode(caller.verifyApiKey({ input: { key: target.secret } }), "publishable_key_write");
    expect(error.status).toBe(403);
  });

  it("a LIVE verifier cannot see TEST keys of its own workspace: not_found", async () => {
    const testKey = await makeKey(owner.client, wsA.id, { environment: "TEST" });
    expect(await verify(verifier, testKey.secret)).toMatchObject({ ...REFUSED_ANONYMOUS, code: "not_found" });
    expect((await verify(owner.client, testKey.secret)).code).toBe("VALID");
  });

  it("a key without keys:verify: not_found even for its own workspace's keys", async () => {
    const reader = await makeKey(owner.client, wsA.id, { scopes: ["keys:read", "keys:write"] });
    expect(await verify(app.client(reader.secret), target.secret)).toMatchObject({
      ...REFUSED_ANONYMOUS,
      code: "not_found",
    });
  });

  it("OWNER, ADMIN and MODERATOR sessions verify their workspace's keys; a MEMBER gets not_found", async () => {
    const verdicts: Record<string, string> = { OWNER: (await verify(owner.client, target.secret)).code };
    for (const role of ["ADMIN", "MODERATOR", "MEMBER"] as const) {
      const user = await signUpUser(app, role.toLowerCase());
      await owner.client.addMember({ input: { workspaceId: wsA.id, email: user.email, role } });
      const result = await verify(user.client, target.secret);
      verdicts[role] = result.code;
      if (role === "MEMBER") expect(result).toMatchObject(REFUSED_ANONYMOUS);
      else expect(result.keyId).toBe(target.id);
    }
    expect(verdicts).toEqual({ OWNER: "VALID", ADMIN: "VALID", MODERATOR: "VALID", MEMBER: "not_found" });
    // An owner of another workspace sees nothing of A.
    expect((await verify(ownerB.client, target.secret)).code).toBe("not_found");
  });

  it("a platform admin verifies any workspace's key", async () => {
    const email = uniqueEmail("platform-admin");
    const created = await createPlatformAdmin(app.db, { email, password: PASSWORD, name: "Admin" }, app.clock.now);
    expect(created.ok).toBe(true);
    const { signIn } = await app.client().signIn({ input: { email, password: PASSWORD } });
    const admin = app.client(signIn.token);
    const ofB = await makeKey(ownerB.client, wsB.id);
    expect(await verify(admin, target.secret)).toMatchObject({ code: "VALID", workspaceId: wsA.id });
    expect(await verify(admin, ofB.secret)).toMatchObject({ code: "VALID", workspaceId: wsB.id });
  });
});

describe("uses and usage counts", () => {
  it("a rate-limited verification is not a use: lastUsedAt stays at the last VALID", async () => {
    const key = await makeKey(owner.client, wsA.id, { rateLimit: { limit: 2, windowSeconds: 60 } });
    await app.flushUsage();
    app.clock.advance(1000);
    expect((await verify(verifier, key.secret)).code).toBe("VALID");
    app.clock.advance(1000);
    expect((await verify(verifier, key.secret)).code).toBe("VALID");
    const lastValid = app.clock.now.toISOString();
    app.clock.advance(1000);
    expect((await verify(verifier, key.secret)).code).toBe("rate_limit_exceeded");
    await app.flushUsage();
    const { apiKey } = await owner.client.apiKey({ id: key.id });
    expect(apiKey?.lastUsedAt).toBe(lastValid);
  });

  it("counts verifications per hour and outcome, readable as apiKey.usage(from, to)", async () => {
    const key = await makeKey(owner.client, wsA.id, { scopes: ["keys:read"], allowedIps: ["203.0.113.0/24"] });
    // Start a minute into a fresh hour, so every call below lands in a known hour.
    const hour = 3600_000;
    const h1 = Math.floor(app.clock.now.getTime() / hour) * hour + hour;
    app.clock.advance(h1 + 60_000 - app.clock.now.getTime());
    const inside = { ip: "203.0.113.5" };
    for (let i = 0; i < 3; i++) expect((await verify(verifier, key.secret, inside)).code).toBe("VALID");
    for (let i = 0; i < 2; i++) {
      const result = await verify(verifier, key.secret, { ...inside, requiredScopes: ["keys:write"] });
      expect(result.code).toBe("insufficient_scope");
    }
    expect((await verify(verifier, key.secret, { ip: "198.51.100.1" })).code).toBe("ip_not_allowed");
    app.clock.advance(hour);
    expect((await verify(verifier, key.secret, inside)).code).toBe("VALID");
    expect((await verify(verifier, key.secret, { ...inside, requiredScopes: ["keys:write"] })).code).toBe(
      "insufficient_scope",
    );
    await app.flushUsage();

    const iso = (ms: number) => new Date(ms).toISOString();
    const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const usage = async (from: number, to: number) => {
      const { apiKey } = await owner.client.apiKeyUsage({ id: key.id, from: iso(from), to: iso(to) });
      return [...(apiKey?.usage ?? [])]
        .map((u) => ({ hour: new Date(u.hour).toISOString(), outcome: u.outcome, count: u.count }))
        .sort((a, b) => byCodePoint(a.hour, b.hour) || byCodePoint(a.outcome, b.outcome));
    };
    expect(await usage(h1, h1 + 2 * hour)).toEqual([
      { hour: iso(h1), outcome: "VALID", count: 3 },
      { hour: iso(h1), outcome: "insufficient_scope", count: 2 },
      { hour: iso(h1), outcome: "ip_not_allowed", count: 1 },
      { hour: iso(h1 + hour), outcome: "VALID", count: 1 },
      { hour: iso(h1 + hour), outcome: "insufficient_scope", count: 1 },
    ]);
    // [from, to): the second hour is outside a one-hour range.
    expect(await usage(h1, h1 + hour)).toHaveLength(3);
    expect(await usage(h1 - 24 * hour, h1)).toEqual([]);

    // A later batch adds to the same bucket.
    expect((await verify(verifier, key.secret, inside)).code).toBe("VALID");
    await app.flushUsage();
    expect(await usage(h1 + hour, h1 + 2 * hour)).toEqual([
      { hour: iso(h1 + hour), outcome: "VALID", count: 2 },
      { hour: iso(h1 + hour), outcome: "insufficient_scope", count: 1 },
    ]);
    // The longest range allowed is 93 days.
    expect(await usage(h1 + 2 * hour - 93 * 24 * hour, h1 + 2 * hour)).toHaveLength(5);
  });

  it("usage ranges over 93 days, or with to <= from, are validation_failed", async () => {
    const key = await makeKey(owner.client, wsA.id);
    const from = app.clock.now.getTime();
    const ask = (to: number) =>
      owner.client.apiKeyUsage({ id: key.id, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    const tooLong = await expectCode(ask(from + 93 * 24 * 3600_000 + 1000), "validation_failed");
    expect(tooLong.field).toBe("to");
    await expectCode(ask(from), "validation_failed");
    await expectCode(ask(from - 3600_000), "validation_failed");
    expect((await ask(from + 3600_000)).apiKey?.usage).toEqual([]);
  });
});
