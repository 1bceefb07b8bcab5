import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../server/keys/format";
import { signUpUser, startTestApp, TEST_IP, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// reportLeakedKey (anyone holding a key reports it, no credential) and the
// workspace's leakPolicy (README "Leaked keys"). Both go through the same domain
// path as GitHub's reports (test/api/leaks-github.test.ts).

let app: TestApp;
let owner: KeywardClient;
let anonymous: KeywardClient;
let slugs = 0;

beforeAll(async () => {
  app = await startTestApp();
  owner = (await signUpUser(app, "leak-owner")).client;
  anonymous = app.client();
});
afterAll(() => app.close());

async function workspace(client: KeywardClient = owner) {
  const slug = `report-${process.pid}-${++slugs}`;
  return (await client.createWorkspace({ input: { name: "Reports", slug } })).createWorkspace.id;
}

async function makeKey(workspaceId: string) {
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId, name: "customer", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

const codeOf = async (key: string) => (await owner.verifyApiKey({ input: { key } })).verifyApiKey.code;
const URL_FOUND = "https://gist.github.com/someone/abc";

describe("reportLeakedKey", () => {
  it("revokes a reported key without any credential, and records where it was found", async () => {
    const key = await makeKey(await workspace());
    const { reportLeakedKey } = await anonymous.reportLeakedKey({ input: { key: key.secret, url: URL_FOUND } });
    expect(reportLeakedKey).toEqual({ received: true });
    expect(await codeOf(key.secret)).toBe("invalid_api_key");
    const leaked = await app.db.auditEvent.findFirstOrThrow({ where: { targetId: key.id, action: "api_key.leaked" } });
    expect(leaked).toMatchObject({ actorType: "system", ip: TEST_IP });
    expect(leaked.data).toMatchObject({ url: URL_FOUND, source: "reportLeakedKey", policy: "REVOKE", revoked: true });
  });

  it("leaves the key working where the workspace's policy is NOTIFY", async () => {
    const workspaceId = await workspace();
    await owner.setLeakPolicy({ input: { workspaceId, policy: "NOTIFY" } });
    const key = await makeKey(workspaceId);
    await anonymous.reportLeakedKey({ input: { key: key.secret } });
    expect(await codeOf(key.secret)).toBe("VALID");
    const leaked = await app.db.auditEvent.findFirstOrThrow({ where: { targetId: key.id, action: "api_key.leaked" } });
    expect(leaked.data).toMatchObject({ url: null, policy: "NOTIFY", revoked: false });
  });

  it("answers a probe for unknown or malformed keys exactly as for a real one, and changes nothing", async () => {
    const before = await app.db.auditEvent.count();
    for (const key of [generateKey("SECRET", "LIVE"), "sk_live_mistyped", "hello"]) {
      const { reportLeakedKey } = await anonymous.reportLeakedKey({ input: { key, url: URL_FOUND } });
      expect(reportLeakedKey).toEqual({ received: true });
    }
    expect(await app.db.auditEvent.count()).toBe(before);
  });

  it("refuses an oversized key before looking at it", async () => {
    await expectCode(anonymous.reportLeakedKey({ input: { key: "k".repeat(201) } }), "validation_failed");
  });

  it("stops a flood of reports from one IP (KEYWARD_AUTH_RATE_LIMIT per 10 minutes)", async () => {
    const limited = await startTestApp({ KEYWARD_AUTH_RATE_LIMIT: "2" });
    try {
      const client = limited.client();
      for (let i = 0; i < 2; i++) await client.reportLeakedKey({ input: { key: generateKey("SECRET", "LIVE") } });
      const refused = await expectCode(
        client.reportLeakedKey({ input: { key: generateKey("SECRET", "LIVE") } }),
        "rate_limit_exceeded",
      );
      expect(refused.message).toContain("retry in");
    } finally {
      await limited.close();
    }
  });
});

describe("setLeakPolicy", () => {
  it("defaults to REVOKE, is changed by the owner and audited", async () => {
    const workspaceId = await workspace();
    expect((await owner.workspace({ id: workspaceId })).workspace?.leakPolicy).toBe("REVOKE");
    const { setLeakPolicy } = await owner.setLeakPolicy({ input: { workspaceId, policy: "NOTIFY" } });
    expect(setLeakPolicy).toEqual({ id: workspaceId, leakPolicy: "NOTIFY" });
    const event = await app.db.auditEvent.findFirstOrThrow({
      where: { targetId: workspaceId, action: "workspace.leak_policy" },
    });
    expect(event.data).toEqual({ from: "REVOKE", to: "NOTIFY" });
  });

  it("an owner of another workspace changing this one's policy gets not_found, and nothing changes", async () => {
    const workspaceId = await workspace();
    const stranger = (await signUpUser(app, "stranger")).client;
    await workspace(stranger);
    await expectCode(stranger.setLeakPolicy({ input: { workspaceId, policy: "NOTIFY" } }), "not_found");
    expect((await owner.workspace({ id: workspaceId })).workspace?.leakPolicy).toBe("REVOKE");
  });

  it("a MODERATOR turning revocation off to keep a leaked key alive is refused", async () => {
    const workspaceId = await workspace();
    const moderator = await signUpUser(app, "moderator");
    await owner.addMember({ input: { workspaceId, email: moderator.email, role: "MODERATOR" } });
    await expectCode(
      moderator.client.setLeakPolicy({ input: { workspaceId, policy: "NOTIFY" } }),
      "insufficient_permissions",
    );
    expect((await owner.workspace({ id: workspaceId })).workspace?.leakPolicy).toBe("REVOKE");
  });
});
