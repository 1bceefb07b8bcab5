import { createHash } from "node:crypto";
import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatformAdmin } from "../../server/identity/accounts";
import { generateKey } from "../../server/keys/format";
import { generatePlatformKey } from "../../server/platform/format";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";
import {
  type KeysDocument,
  keysDocument,
  match,
  type ScanningKey,
  scanningKey,
  signedBy,
} from "../helpers/github-scanning";
import { expectRestError } from "../helpers/rest-suite";

// POST /leaks/github (README "Leaked keys"): GitHub's secret scanning partner
// endpoint. Reports signed with a key of GitHub's public-keys document act on the
// key as its workspace's leakPolicy says; anything unsigned, forged or altered is
// refused before a token is looked at.

const github = scanningKey("github-key-1");
let document: KeysDocument;
let app: TestApp;
let owner: KeywardClient;
let slugs = 0;

beforeAll(async () => {
  document = keysDocument([github]);
  // Private addresses allowed: one test subscribes a (never called) loopback endpoint.
  app = await startTestApp({ KEYWARD_GITHUB_KEYS_URL: document.url, KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  owner = (await signUpUser(app, "leaks")).client;
});
afterAll(() => app.close());

async function workspace(options: { policy?: "REVOKE" | "NOTIFY"; gated?: boolean } = {}) {
  const slug = `leaks-${process.pid}-${++slugs}`;
  const { createWorkspace } = await owner.createWorkspace({ input: { name: "Leaks", slug } });
  const workspaceId = createWorkspace.id;
  if (options.policy) await owner.setLeakPolicy({ input: { workspaceId, policy: options.policy } });
  if (options.gated) await owner.setRequireDeploy({ input: { workspaceId, enabled: true } });
  return workspaceId;
}

async function makeKey(workspaceId: string) {
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId, name: "customer", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

const codeOf = async (key: string) => (await owner.verifyApiKey({ input: { key } })).verifyApiKey.code;
const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

function post(body: string, headers: Record<string, string>) {
  return app.fetch("/leaks/github", { method: "POST", headers, body });
}

async function report(tokens: Array<ReturnType<typeof match>>, key: ScanningKey = github) {
  const body = JSON.stringify(tokens);
  const response = await post(body, signedBy(key, body));
  expect(response.status).toBe(200);
  return (await response.json()) as Array<{ token_hash: string; token_type: string; label: string }>;
}

const events = (keyId: string) =>
  app.db.auditEvent.findMany({
    where: { targetId: keyId },
    orderBy: { seq: "asc" },
    select: { action: true, data: true },
  });

describe("a signed report", () => {
  it("revokes a key of a REVOKE workspace at once: the next verification answers invalid_api_key", async () => {
    const workspaceId = await workspace();
    await owner.createWebhookEndpoint({
      input: {
        workspaceId,
        environment: "LIVE",
        url: "http://127.0.0.1:9/hooks",
        events: ["key.leaked", "key.revoked"],
      },
    });
    const key = await makeKey(workspaceId);
    expect(await codeOf(key.secret)).toBe("VALID"); // now cached on this instance
    const feedback = await report([match(key.secret, "keyward_secret_key")]);
    expect(feedback).toEqual([
      { token_hash: sha256(key.secret), token_type: "keyward_secret_key", label: "true_positive" },
    ]);
    expect(await codeOf(key.secret)).toBe("invalid_api_key");
    const leaked = (await events(key.id)).find((event) => event.action === "api_key.leaked");
    expect(leaked?.data).toMatchObject({
      url: "https://github.com/acme/app/blob/abc123/.env",
      type: "keyward_secret_key",
      source: "content",
      policy: "REVOKE",
      revoked: true,
    });
    expect((await events(key.id)).map((event) => event.action)).toContain("api_key.revoke_immediate");
    // The workspace's webhooks hear of it: key.leaked with where it was found, and the revocation.
    const outbox = (await app.db.webhookEvent.findMany({ where: { workspaceId } })).map((event) => ({
      type: event.type,
      data: (event.payload as { data: Record<string, unknown> }).data,
    }));
    expect(outbox.map((event) => event.type).sort()).toEqual(["key.leaked", "key.revoked"]);
    expect(outbox.find((event) => event.type === "key.leaked")?.data).toMatchObject({
      keyId: key.id,
      url: "https://github.com/acme/app/blob/abc123/.env",
      policy: "REVOKE",
      revoked: true,
    });
    expect(JSON.stringify(outbox)).not.toContain(key.secret);
  });

  it("stops a key of a deploy-gated workspace at once, without waiting for a deployment", async () => {
    const workspaceId = await workspace({ gated: true });
    const key = await makeKey(workspaceId);
    await owner.deployKeys({ input: { workspaceId } });
    expect(await codeOf(key.secret)).toBe("VALID");
    expect((await report([match(key.secret)]))[0]?.label).toBe("true_positive");
    expect(await codeOf(key.secret)).toBe("invalid_api_key");
  });

  it("stops a key whose ordinary revocation still waits for a deployment", async () => {
    const workspaceId = await workspace({ gated: true });
    const key = await makeKey(workspaceId);
    await owner.deployKeys({ input: { workspaceId } });
    await owner.revokeApiKey({ input: { id: key.id } });
    expect(await codeOf(key.secret)).toBe("VALID"); // pending: the deployment still lists it
    expect((await report([match(key.secret)]))[0]?.label).toBe("true_positive");
    expect(await codeOf(key.secret)).toBe("invalid_api_key");
  });

  it("leaves a key of a NOTIFY workspace working, and records the report", async () => {
    const key = await makeKey(await workspace({ policy: "NOTIFY" }));
    expect((await report([match(key.secret)]))[0]?.label).toBe("true_positive");
    expect(await codeOf(key.secret)).toBe("VALID");
    const actions = (await events(key.id)).map((event) => event.action);
    expect(actions).toContain("api_key.leaked");
    expect(actions).not.toContain("api_key.revoke_immediate");
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.revokedAt).toBeNull();
  });

  it("records a report of an already revoked key without revoking it again", async () => {
    const key = await makeKey(await workspace());
    await owner.revokeApiKey({ input: { id: key.id, reason: "rotated" } });
    expect((await report([match(key.secret)]))[0]?.label).toBe("true_positive");
    const found = await events(key.id);
    expect(found.map((event) => event.action)).toEqual(["api_key.create", "api_key.revoke", "api_key.leaked"]);
    expect(found[2]?.data).toMatchObject({ revoked: false });
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.revokedReason).toBe("rotated");
  });

  it("answers false_positive for unknown and malformed tokens, with their hash and nothing else", async () => {
    const unknown = generateKey("SECRET", "LIVE");
    const known = await makeKey(await workspace());
    const mistyped = `${known.secret.slice(0, -1)}${known.secret.endsWith("A") ? "B" : "A"}`;
    const tokens = [unknown, mistyped, "sk_live_short", "ghp_notakeywardtoken"];
    const before = await app.db.auditEvent.count();
    const feedback = await report(tokens.map((token) => match(token, "keyward_secret_key")));
    expect(feedback).toEqual(
      tokens.map((token) => ({ token_hash: sha256(token), token_type: "keyward_secret_key", label: "false_positive" })),
    );
    expect(await app.db.auditEvent.count()).toBe(before);
    expect(await codeOf(known.secret)).toBe("VALID");
  });

  it("answers each token of a batch in order", async () => {
    const workspaceId = await workspace();
    const first = await makeKey(workspaceId);
    const second = await makeKey(workspaceId);
    const unknown = generateKey("PUBLISHABLE", "TEST");
    const feedback = await report([
      match(first.secret),
      match(unknown, "keyward_publishable_key"),
      match(second.secret),
    ]);
    expect(feedback.map((entry) => [entry.token_hash, entry.token_type, entry.label])).toEqual([
      [sha256(first.secret), "keyward_secret_key", "true_positive"],
      [sha256(unknown), "keyward_publishable_key", "false_positive"],
      [sha256(second.secret), "keyward_secret_key", "true_positive"],
    ]);
    expect(await codeOf(first.secret)).toBe("invalid_api_key");
    expect(await codeOf(second.secret)).toBe("invalid_api_key");
  });
});

describe("a signed report of a platform key (kwp_)", () => {
  it("revokes it at once, whatever any workspace's policy, and answers false_positive for unknown ones", async () => {
    const email = uniqueEmail("ops");
    const made = await createPlatformAdmin(app.db, { email, password: PASSWORD, name: "Ops" }, app.clock.now);
    if (!made.ok) throw new Error(made.error.message);
    const admin = app.client((await app.client().signIn({ input: { email, password: PASSWORD } })).signIn.token);
    const { createPlatformKey } = await admin.createPlatformKey({
      input: { name: "verifier", scopes: ["keys:verify"] },
    });
    const platform = app.client(createPlatformKey.secret);
    const customer = await makeKey(await workspace({ policy: "NOTIFY" }));
    expect((await platform.verifyApiKey({ input: { key: customer.secret } })).verifyApiKey.code).toBe("VALID");
    const unknown = generatePlatformKey();
    const feedback = await report([
      match(createPlatformKey.secret, "keyward_platform_key"),
      match(unknown, "keyward_platform_key"),
    ]);
    expect(feedback.map((entry) => [entry.token_hash, entry.label])).toEqual([
      [sha256(createPlatformKey.secret), "true_positive"],
      [sha256(unknown), "false_positive"],
    ]);
    await expectCode(platform.verifyApiKey({ input: { key: customer.secret } }), "invalid_api_key");
    const id = createPlatformKey.platformKey.id;
    const leaked = await app.db.auditEvent.findFirstOrThrow({ where: { targetId: id, action: "platform_key.leaked" } });
    expect(leaked.data).toMatchObject({ type: "keyward_platform_key", source: "content", revoked: true });
  });
});

describe("reports GitHub did not sign are refused with nothing changed", () => {
  let key: { id: string; secret: string };
  let body: string;

  beforeAll(async () => {
    key = await makeKey(await workspace());
    body = JSON.stringify([match(key.secret)]);
  });

  async function expectRefused(response: Response, code: string, field: string) {
    const before = await app.db.auditEvent.count();
    await expectRestError(response, code, field);
    expect(await app.db.auditEvent.count()).toBe(before);
    expect(await codeOf(key.secret)).toBe("VALID");
  }

  it("an attacker revoking someone's key with a report signed by their own key under GitHub's key id", async () => {
    const attacker = scanningKey(github.id);
    await expectRefused(await post(body, signedBy(attacker, body)), "invalid_signature", "Github-Public-Key-Signature");
  });

  it("an attacker naming a key id GitHub never published", async () => {
    const attacker = scanningKey("attacker-key");
    await expectRefused(
      await post(body, signedBy(attacker, body)),
      "invalid_signature",
      "Github-Public-Key-Identifier",
    );
  });

  it("an attacker sending an unsigned report", async () => {
    const { "github-public-key-signature": _, ...headers } = signedBy(github, body);
    await expectRefused(await post(body, headers), "invalid_signature", "Github-Public-Key-Signature");
  });

  it("an attacker sending a signature without a key id", async () => {
    const { "github-public-key-identifier": _, ...headers } = signedBy(github, body);
    await expectRefused(await post(body, headers), "invalid_signature", "Github-Public-Key-Identifier");
  });

  it("an attacker swapping the token in a genuine signed report for a victim's key", async () => {
    const genuine = JSON.stringify([match(generateKey("SECRET", "LIVE"))]);
    const headers = signedBy(github, genuine);
    await expectRefused(await post(body, headers), "invalid_signature", "Github-Public-Key-Signature");
  });

  it("an attacker re-encoding a genuine report (same JSON, other bytes)", async () => {
    const headers = signedBy(github, body);
    await expectRefused(
      await post(JSON.stringify(JSON.parse(body), null, 1), headers),
      "invalid_signature",
      "Github-Public-Key-Signature",
    );
  });

  it("an attacker sending a signature that is not DER at all", async () => {
    const headers = { ...signedBy(github, body), "github-public-key-signature": "bm90IGEgc2lnbmF0dXJl" };
    await expectRefused(await post(body, headers), "invalid_signature", "Github-Public-Key-Signature");
  });

  it("a report that is not JSON (refused only once it is known to be GitHub's)", async () => {
    await expectRefused(await post("not json", signedBy(github, "not json")), "validation_failed", "body");
  });

  it("a report over 2 MiB, however it is signed (the limit every route has)", async () => {
    const huge = JSON.stringify([{ ...match(key.secret), url: `https://github.com/${"x".repeat(2 * 1024 * 1024)}` }]);
    await expectRefused(await post(huge, signedBy(github, huge)), "payload_too_large", "body");
  });

  it("a report that is not a POST", async () => {
    const response = await app.fetch("/leaks/github", { method: "GET" });
    expect(response.headers.get("allow")).toBe("POST");
    await expectRefused(response, "validation_failed", "method");
  });
});
