import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Deploy-gated keys (README "Deploy-gated keys"): with requireDeploy on, every key
// change is recorded and listed as pending, while verification answers from the
// latest deployment until deployKeys publishes the next one.

let app: TestApp;
let owner: KeywardClient;
let slugCounter = 0;

beforeAll(async () => {
  app = await startTestApp();
  owner = (await signUpUser(app, "deployer")).client;
});
afterAll(() => app.close());

async function workspace(gated = true) {
  const slug = `deploys-${process.pid}-${++slugCounter}`;
  const { createWorkspace } = await owner.createWorkspace({ input: { name: "Deploys", slug } });
  // Some keys hold service.forms.read, which must name a service of their workspace.
  await owner.createService({ input: { workspaceId: createWorkspace.id, slug: "forms", name: "Forms" } });
  if (gated) await owner.setRequireDeploy({ input: { workspaceId: createWorkspace.id, enabled: true } });
  return createWorkspace.id;
}

async function makeKey(workspaceId: string, scopes: string[] = ["keys:read"], rateLimit?: { limit: number }) {
  const { createApiKey } = await owner.createApiKey({
    input: {
      workspaceId,
      name: "customer",
      type: "SECRET",
      environment: "LIVE",
      scopes,
      rateLimit: rateLimit && { limit: rateLimit.limit, windowSeconds: 3600 },
    },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

async function verify(key: string, requiredScopes: string[] = []) {
  return (await owner.verifyApiKey({ input: { key, requiredScopes } })).verifyApiKey;
}

const codeOf = async (key: string, requiredScopes: string[] = []) => (await verify(key, requiredScopes)).code;

async function deploy(workspaceId: string, note?: string) {
  return (await owner.deployKeys({ input: { workspaceId, note } })).deployKeys;
}

async function pending(workspaceId: string) {
  return (await owner.pendingDeployment({ workspaceId })).pendingDeployment;
}

async function auditActions(workspaceId: string) {
  const { auditEvents } = await owner.auditEvents({ workspaceId, first: 100 });
  return auditEvents.edges.map((edge) => edge.node);
}

describe("turning requireDeploy on", () => {
  it("publishes the current keys as the first deployment, so nothing changes for them", async () => {
    const id = await workspace(false);
    const before = await makeKey(id);
    expect(await verify(before.secret)).toMatchObject({ code: "VALID", deploymentVersion: null });

    const { setRequireDeploy } = await owner.setRequireDeploy({ input: { workspaceId: id, enabled: true } });
    expect(setRequireDeploy.requireDeploy).toBe(true);
    const { deployments } = await owner.deployments({ workspaceId: id });
    expect(deployments.totalCount).toBe(1);
    expect(deployments.edges[0]?.node).toMatchObject({ version: 1, kind: "ENABLE", keyCount: 1, added: 1 });
    expect(await verify(before.secret)).toMatchObject({ code: "VALID", deploymentVersion: 1 });
    const actions = (await auditActions(id)).map((event) => event.action);
    expect(actions).toEqual(expect.arrayContaining(["workspace.require_deploy_enable", "deployment.publish"]));
  });

  it("twice changes nothing and publishes nothing the second time", async () => {
    const id = await workspace();
    await owner.setRequireDeploy({ input: { workspaceId: id, enabled: true } });
    expect((await owner.deployments({ workspaceId: id })).deployments.totalCount).toBe(1);
  });
});

describe("a change is pending until deployKeys publishes it", () => {
  it("a key created meanwhile answers key_not_deployed, then VALID from the deployment that lists it", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    expect(await verify(key.secret)).toMatchObject({ valid: false, code: "key_not_deployed", deploymentVersion: 1 });
    const diff = await pending(id);
    expect(diff).toMatchObject({ baseVersion: 1, added: 1, removed: 0, changed: 0 });
    expect(diff.changes).toEqual([expect.objectContaining({ keyId: key.id, change: "ADDED" })]);

    const deployment = await deploy(id, "ship the new key");
    expect(deployment).toMatchObject({ version: 2, kind: "DEPLOY", note: "ship the new key", added: 1, keyCount: 1 });
    expect(await verify(key.secret)).toMatchObject({ valid: true, code: "VALID", deploymentVersion: 2 });
    expect(await pending(id)).toMatchObject({ baseVersion: 2, added: 0, removed: 0, changed: 0, changes: [] });
  });

  it("an update of scopes and metadata answers the deployed values until the next deployment", async () => {
    const id = await workspace();
    const key = await makeKey(id, ["keys:read", "service.forms.read"]);
    await deploy(id);
    await owner.updateApiKey({ input: { id: key.id, scopes: ["keys:read"], metadata: { plan: "pro" } } });
    const before = await verify(key.secret, ["service.forms.read"]);
    expect(before).toMatchObject({ code: "VALID", scopes: ["keys:read", "service.forms.read"], metadata: {} });
    const diff = await pending(id);
    expect(diff).toMatchObject({ added: 0, removed: 0, changed: 1 });
    expect(diff.changes[0]).toMatchObject({ keyId: key.id, change: "CHANGED" });
    expect([...(diff.changes[0]?.fields ?? [])].sort()).toEqual(["metadata", "scopes"]);

    await deploy(id);
    expect(await codeOf(key.secret, ["service.forms.read"])).toBe("insufficient_scope");
    expect((await verify(key.secret)).metadata).toEqual({ plan: "pro" });
  });

  it("a rename is not a change a deployment publishes", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    await deploy(id);
    await owner.updateApiKey({ input: { id: key.id, name: "renamed" } });
    expect(await pending(id)).toMatchObject({ added: 0, removed: 0, changed: 0 });
  });

  it("a revoked key keeps working until the next deployment removes it", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    await deploy(id);
    const { revokeApiKey } = await owner.revokeApiKey({ input: { id: key.id, reason: "rotating" } });
    expect(revokeApiKey).toMatchObject({ status: "REVOKED", revokedImmediately: false });
    expect(await codeOf(key.secret)).toBe("VALID");
    expect(await pending(id)).toMatchObject({ removed: 1, changes: [expect.objectContaining({ change: "REMOVED" })] });

    expect(await deploy(id)).toMatchObject({ removed: 1, keyCount: 0 });
    expect(await verify(key.secret)).toMatchObject({ code: "invalid_api_key", deploymentVersion: 3 });
  });

  it("the key switch is published by a deployment too", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    await deploy(id);
    await owner.setKeysEnabled({ input: { workspaceId: id, enabled: false } });
    expect(await codeOf(key.secret)).toBe("VALID");
    expect(await pending(id)).toMatchObject({ keysEnabled: false, keysEnabledChanged: true });
    expect(await deploy(id)).toMatchObject({ keysEnabled: false });
    expect(await codeOf(key.secret)).toBe("keys_disabled");
    await owner.setKeysEnabled({ input: { workspaceId: id, enabled: true } });
    expect(await codeOf(key.secret)).toBe("keys_disabled");
    await deploy(id);
    expect(await codeOf(key.secret)).toBe("VALID");
  });

  it("a roll with no grace swaps the old key for the new one at the deployment", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    await deploy(id);
    const { rollApiKey } = await owner.rollApiKey({ input: { id: key.id, gracePeriodSeconds: 0 } });
    expect(await codeOf(key.secret)).toBe("VALID");
    expect(await codeOf(rollApiKey.secret)).toBe("key_not_deployed");
    expect(await pending(id)).toMatchObject({ added: 1, changed: 1 });
    await deploy(id);
    expect(await codeOf(key.secret)).toBe("key_expired");
    expect(await codeOf(rollApiKey.secret)).toBe("VALID");
  });

  it("the deployed rate limit applies, and its count carries over deployments", async () => {
    const id = await workspace();
    const key = await makeKey(id, ["keys:read"], { limit: 3 });
    await deploy(id);
    expect((await verify(key.secret)).ratelimit).toMatchObject({ limit: 3, remaining: 2 });
    await owner.updateApiKey({ input: { id: key.id, metadata: { tier: "a" } } });
    await deploy(id);
    expect((await verify(key.secret)).ratelimit).toMatchObject({ limit: 3, remaining: 1 });
    await owner.updateApiKey({ input: { id: key.id, rateLimit: { limit: 100, windowSeconds: 3600 } } });
    expect((await verify(key.secret)).ratelimit).toMatchObject({ limit: 3, remaining: 0 });
    expect(await codeOf(key.secret)).toBe("rate_limit_exceeded");
    await deploy(id);
    // A new limit counts afresh, as it does without deploys.
    expect((await verify(key.secret)).ratelimit).toMatchObject({ limit: 100, remaining: 99 });
  });

  it("uses of a key answered from a deployment are counted and set lastUsedAt", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    await deploy(id);
    expect(await codeOf(key.secret)).toBe("VALID");
    await app.flushUsage();
    const { apiKey } = await owner.apiKey({ id: key.id });
    expect(apiKey.lastUsedAt).not.toBeNull();
  });
});

describe("rollbackKeys", () => {
  it("republishes an older snapshot (keys and switch) as a new version", async () => {
    const id = await workspace();
    const key = await makeKey(id, ["keys:read", "service.forms.read"]);
    const v2 = await deploy(id);
    await owner.updateApiKey({ input: { id: key.id, scopes: ["keys:read"] } });
    await owner.setKeysEnabled({ input: { workspaceId: id, enabled: false } });
    const v3 = await deploy(id);
    expect(v3).toMatchObject({ version: 3, changed: 1, keysEnabled: false });
    expect(await codeOf(key.secret)).toBe("keys_disabled");

    const { rollbackKeys } = await owner.rollbackKeys({
      input: { workspaceId: id, version: v2.version, note: "bad scopes" },
    });
    expect(rollbackKeys).toMatchObject({
      version: 4,
      kind: "ROLLBACK",
      sourceVersion: 2,
      note: "bad scopes",
      keysEnabled: true,
      changed: 1,
      keyCount: 1,
    });
    expect(await verify(key.secret, ["service.forms.read"])).toMatchObject({ code: "VALID", deploymentVersion: 4 });
    // The live state did not move: the next deployment would publish it again.
    expect(await pending(id)).toMatchObject({ baseVersion: 4, changed: 1, keysEnabledChanged: true });
    const versions = (await owner.deployments({ workspaceId: id })).deployments.edges.map((e) => e.node.version);
    expect(versions).toEqual([4, 3, 2, 1]);
  });

  it("brings back a key whose revocation was deployed, unless it was revoked immediately", async () => {
    const id = await workspace();
    const ordinary = await makeKey(id);
    const compromised = await makeKey(id);
    const both = await deploy(id);
    await owner.revokeApiKey({ input: { id: ordinary.id } });
    await owner.revokeApiKey({ input: { id: compromised.id, immediate: true } });
    await deploy(id);
    expect(await codeOf(ordinary.secret)).toBe("invalid_api_key");
    await owner.rollbackKeys({ input: { workspaceId: id, version: both.version } });
    expect(await codeOf(ordinary.secret)).toBe("VALID");
    expect(await codeOf(compromised.secret)).toBe("invalid_api_key");
  });

  it("to a version this workspace does not have answers not_found", async () => {
    const id = await workspace();
    const error = await expectCode(owner.rollbackKeys({ input: { workspaceId: id, version: 99 } }), "not_found");
    expect(error.field).toBe("version");
    await expectCode(owner.rollbackKeys({ input: { workspaceId: id, version: 0 } }), "validation_failed");
    expect((await owner.deployments({ workspaceId: id })).deployments.totalCount).toBe(1);
  });
});

describe("revokeApiKey(immediate: true)", () => {
  it("refuses the key at once, bypassing the deployment, and is audited as such", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    await deploy(id);
    const { revokeApiKey } = await owner.revokeApiKey({ input: { id: key.id, reason: "leaked", immediate: true } });
    expect(revokeApiKey).toMatchObject({ status: "REVOKED", revokedImmediately: true, revokedReason: "leaked" });
    expect(await verify(key.secret)).toMatchObject({ code: "invalid_api_key", deploymentVersion: 2 });
    const event = (await auditActions(id)).find((e) => e.action === "api_key.revoke_immediate");
    expect(event).toMatchObject({ targetId: key.id, data: { reason: "leaked", pendingRevocation: false } });
    // The next deployment does not list it, and no deployment brings it back.
    expect(await deploy(id)).toMatchObject({ removed: 1 });
    expect(await codeOf(key.secret)).toBe("invalid_api_key");
  });

  it("turns a revocation still waiting for a deployment into an immediate one", async () => {
    const id = await workspace();
    const key = await makeKey(id);
    await deploy(id);
    await owner.revokeApiKey({ input: { id: key.id } });
    expect(await codeOf(key.secret)).toBe("VALID");
    await owner.revokeApiKey({ input: { id: key.id, immediate: true } });
    expect(await codeOf(key.secret)).toBe("invalid_api_key");
    const event = (await auditActions(id)).find((e) => e.action === "api_key.revoke_immediate");
    expect(event?.data).toMatchObject({ pendingRevocation: true });
    await expectCode(owner.revokeApiKey({ input: { id: key.id, immediate: true } }), "validation_failed");
  });
});

describe("versions", () => {
  it("are unique and consecutive when five deployments run at once", async () => {
    const id = await workspace();
    await makeKey(id);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => deploy(id, `parallel ${i}`)));
    expect(results.map((d) => d.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
    // Each was compared with the one before it: only the first saw the new key.
    expect(results.map((d) => d.added).sort()).toEqual([0, 0, 0, 0, 1]);
  });

  it("are per workspace", async () => {
    const a = await workspace();
    const b = await workspace();
    await deploy(a);
    await deploy(a);
    expect((await deploy(b)).version).toBe(2);
  });
});

describe("the pending diff", () => {
  it("counts added, removed and changed keys, and the deployment records the same counts", async () => {
    const id = await workspace();
    const kept = await makeKey(id);
    const changed = await makeKey(id);
    const removed = await makeKey(id);
    await deploy(id);
    const added = [await makeKey(id), await makeKey(id)];
    await owner.updateApiKey({ input: { id: changed.id, allowedIps: ["203.0.113.0/24"] } });
    await owner.revokeApiKey({ input: { id: removed.id } });
    const diff = await pending(id);
    expect(diff).toMatchObject({ added: 2, removed: 1, changed: 1, keysEnabledChanged: false });
    // Added first, then changed, then removed (two keys made in one millisecond may come either way).
    expect(diff.changes.map((c) => c.change)).toEqual(["ADDED", "ADDED", "CHANGED", "REMOVED"]);
    expect(new Set(diff.changes.slice(0, 2).map((c) => c.keyId))).toEqual(new Set(added.map((k) => k.id)));
    expect(diff.changes.slice(2).map((c) => c.keyId)).toEqual([changed.id, removed.id]);
    expect(diff.changes.find((c) => c.change === "CHANGED")?.fields).toEqual(["allowedIps"]);
    expect(diff.changes.map((c) => c.keyId)).not.toContain(kept.id);
    expect(await deploy(id)).toMatchObject({ added: 2, removed: 1, changed: 1, keyCount: 4 });
  });
});

describe("turning requireDeploy off", () => {
  it("makes every pending change take effect at once, and counts them in the audit event", async () => {
    const id = await workspace();
    const key = await makeKey(id, ["keys:read", "service.forms.read"]);
    await deploy(id);
    await owner.updateApiKey({ input: { id: key.id, scopes: ["keys:read"] } });
    const fresh = await makeKey(id);
    expect(await codeOf(key.secret, ["service.forms.read"])).toBe("VALID");

    await owner.setRequireDeploy({ input: { workspaceId: id, enabled: false } });
    expect(await verify(key.secret, ["service.forms.read"])).toMatchObject({
      code: "insufficient_scope",
      deploymentVersion: null,
    });
    expect(await codeOf(fresh.secret)).toBe("VALID");
    const event = (await auditActions(id)).find((e) => e.action === "workspace.require_deploy_disable");
    expect(event?.data).toEqual({ added: 1, removed: 0, changed: 1, keysEnabledChanged: false });
  });

  it("leaves deployKeys recording versions that verification does not read", async () => {
    const id = await workspace(false);
    const key = await makeKey(id, ["keys:read", "service.forms.read"]);
    expect(await deploy(id)).toMatchObject({ version: 1, kind: "DEPLOY" });
    await owner.updateApiKey({ input: { id: key.id, scopes: ["keys:read"] } });
    expect(await verify(key.secret, ["service.forms.read"])).toMatchObject({
      code: "insufficient_scope",
      deploymentVersion: null,
    });
  });
});

describe("input", () => {
  it("a note over 500 characters is refused and nothing is published", async () => {
    const id = await workspace();
    const error = await expectCode(deploy(id, "x".repeat(501)), "validation_failed");
    expect(error.field).toBe("note");
    expect((await owner.deployments({ workspaceId: id })).deployments.totalCount).toBe(1);
  });

  it("a malformed cursor is refused", async () => {
    const id = await workspace();
    await expectCode(owner.deployments({ workspaceId: id, after: "not-a-version" }), "validation_failed");
  });

  it("pages newest first", async () => {
    const id = await workspace();
    for (let i = 0; i < 3; i++) await deploy(id);
    const first = (await owner.deployments({ workspaceId: id, first: 2 })).deployments;
    expect(first.edges.map((e) => e.node.version)).toEqual([4, 3]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await owner.deployments({ workspaceId: id, first: 2, after: first.pageInfo.endCursor })).deployments;
    expect(rest.edges.map((e) => e.node.version)).toEqual([2, 1]);
    expect(rest.edges[0]?.node.createdBy?.id).toEqual(first.edges[0]?.node.createdBy?.id);
  });
});

describe("a published deployment", () => {
  it("cannot be changed in the database: updates are refused by a trigger", async () => {
    const id = await workspace();
    await makeKey(id);
    const { id: deploymentId } = await deploy(id);
    await expect(
      app.db.$executeRaw`UPDATE deployments SET note = 'edited' WHERE id = ${deploymentId}::uuid`,
    ).rejects.toThrow(/immutable/);
    await expect(
      app.db.$executeRaw`UPDATE deployment_keys SET scopes = ARRAY['*'] WHERE deployment_id = ${deploymentId}::uuid`,
    ).rejects.toThrow(/immutable/);
  });
});
