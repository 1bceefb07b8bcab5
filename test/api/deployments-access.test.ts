import { randomUUID } from "node:crypto";
import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKSPACE_SCOPES } from "../../server/auth/permissions";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Who may publish, roll back, switch and read deployments, written as the attacks
// the rules stop. Every refusal is checked for its effect too: nothing published,
// nothing switched.

let app: TestApp;
let owner: KeywardClient;
let roles: Record<"MEMBER" | "MODERATOR" | "ADMIN", KeywardClient>;
/** A secret key of the workspace holding every workspace scope. */
let scopedKey: KeywardClient;
let workspaceId: string;
/** Another tenant, with deployments of its own. */
let other: { owner: KeywardClient; workspaceId: string };

async function tenant(label: string) {
  const person = await signUpUser(app, label);
  const { createWorkspace } = await person.client.createWorkspace({
    input: { name: label, slug: `${label}-${randomUUID().slice(0, 8)}` },
  });
  await person.client.setRequireDeploy({ input: { workspaceId: createWorkspace.id, enabled: true } });
  return { owner: person.client, workspaceId: createWorkspace.id };
}

beforeAll(async () => {
  app = await startTestApp();
  const mine = await tenant("gated");
  owner = mine.owner;
  workspaceId = mine.workspaceId;
  const member = async (role: "MEMBER" | "MODERATOR" | "ADMIN") => {
    const person = await signUpUser(app, role.toLowerCase());
    await owner.addMember({ input: { workspaceId, email: person.email, role } });
    return person.client;
  };
  roles = { MEMBER: await member("MEMBER"), MODERATOR: await member("MODERATOR"), ADMIN: await member("ADMIN") };
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId, name: "ci", type: "SECRET", environment: "LIVE", scopes: [...WORKSPACE_SCOPES] },
  });
  // Published, so the key is a working credential.
  await owner.deployKeys({ input: { workspaceId } });
  scopedKey = app.client(createApiKey.secret);
  other = await tenant("other");
  for (let i = 0; i < 3; i++) await other.owner.deployKeys({ input: { workspaceId: other.workspaceId } });
});
afterAll(() => app.close());

const versions = async (id = workspaceId) => (await app.db.deployment.findMany({ where: { workspaceId: id } })).length;
const requireDeploy = async (id = workspaceId) =>
  (await app.db.workspace.findUniqueOrThrow({ where: { id } })).requireDeploy;

describe("roles", () => {
  it("a MEMBER trying to publish the pending keys is refused and nothing is published", async () => {
    const before = await versions();
    await expectCode(roles.MEMBER.deployKeys({ input: { workspaceId } }), "insufficient_permissions");
    await expectCode(roles.MEMBER.rollbackKeys({ input: { workspaceId, version: 1 } }), "insufficient_permissions");
    expect(await versions()).toBe(before);
  });

  it("a MEMBER trying to read the deployment history or the pending diff is refused", async () => {
    await expectCode(roles.MEMBER.deployments({ workspaceId }), "insufficient_permissions");
    await expectCode(roles.MEMBER.pendingDeployment({ workspaceId }), "insufficient_permissions");
  });

  it("a MODERATOR trying to switch requireDeploy off (publishing every pending change at once) is refused", async () => {
    await expectCode(
      roles.MODERATOR.setRequireDeploy({ input: { workspaceId, enabled: false } }),
      "insufficient_permissions",
    );
    expect(await requireDeploy()).toBe(true);
  });

  it("a MODERATOR may deploy and roll back; an ADMIN may also switch requireDeploy", async () => {
    const { deployKeys } = await roles.MODERATOR.deployKeys({ input: { workspaceId, note: "moderator" } });
    await roles.MODERATOR.rollbackKeys({ input: { workspaceId, version: deployKeys.version } });
    expect((await roles.MODERATOR.pendingDeployment({ workspaceId })).pendingDeployment.baseVersion).toBe(
      deployKeys.version + 1,
    );
    await roles.ADMIN.setRequireDeploy({ input: { workspaceId, enabled: false } });
    expect(await requireDeploy()).toBe(false);
    await roles.ADMIN.setRequireDeploy({ input: { workspaceId, enabled: true } });
    expect(await requireDeploy()).toBe(true);
  });
});

describe("API keys", () => {
  it("a secret key with every scope trying to deploy, roll back or switch requireDeploy is refused", async () => {
    const before = await versions();
    await expectCode(scopedKey.deployKeys({ input: { workspaceId } }), "insufficient_scope");
    await expectCode(scopedKey.rollbackKeys({ input: { workspaceId, version: 1 } }), "insufficient_scope");
    await expectCode(scopedKey.setRequireDeploy({ input: { workspaceId, enabled: false } }), "insufficient_scope");
    expect(await versions()).toBe(before);
    expect(await requireDeploy()).toBe(true);
  });

  it("a secret key with every scope trying to read deployments is refused", async () => {
    await expectCode(scopedKey.deployments({ workspaceId }), "insufficient_scope");
    await expectCode(scopedKey.pendingDeployment({ workspaceId }), "insufficient_scope");
  });
});

describe("tenancy", () => {
  it("deploying another workspace answers not_found, like a workspace that does not exist, and publishes nothing", async () => {
    const before = await versions(other.workspaceId);
    await expectCode(owner.deployKeys({ input: { workspaceId: other.workspaceId } }), "not_found");
    await expectCode(owner.deployKeys({ input: { workspaceId: randomUUID() } }), "not_found");
    expect(await versions(other.workspaceId)).toBe(before);
  });

  it("rolling back or switching another workspace answers not_found and changes nothing", async () => {
    const before = await versions(other.workspaceId);
    await expectCode(owner.rollbackKeys({ input: { workspaceId: other.workspaceId, version: 1 } }), "not_found");
    await expectCode(
      owner.setRequireDeploy({ input: { workspaceId: other.workspaceId, enabled: false } }),
      "not_found",
    );
    expect(await versions(other.workspaceId)).toBe(before);
    expect(await requireDeploy(other.workspaceId)).toBe(true);
  });

  it("another workspace's deployments and pending diff answer not_found", async () => {
    await expectCode(owner.deployments({ workspaceId: other.workspaceId }), "not_found");
    await expectCode(owner.pendingDeployment({ workspaceId: other.workspaceId }), "not_found");
  });

  it("rolling back to a version only another workspace has answers not_found", async () => {
    // A fresh workspace of the attacker's with version 1 only; the other one has 1 to 4.
    const { createWorkspace } = await owner.createWorkspace({
      input: { name: "fresh", slug: `fresh-${randomUUID().slice(0, 8)}` },
    });
    await owner.setRequireDeploy({ input: { workspaceId: createWorkspace.id, enabled: true } });
    const theirs = await versions(other.workspaceId);
    expect(theirs).toBeGreaterThanOrEqual(3);
    const error = await expectCode(
      owner.rollbackKeys({ input: { workspaceId: createWorkspace.id, version: 3 } }),
      "not_found",
    );
    expect(error.field).toBe("version");
    expect(await versions(createWorkspace.id)).toBe(1);
    expect(await versions(other.workspaceId)).toBe(theirs);
  });

  it("a key of another workspace cannot be revoked immediately (not_found), and still works", async () => {
    const { createApiKey } = await other.owner.createApiKey({
      input: { workspaceId: other.workspaceId, name: "theirs", type: "SECRET", environment: "LIVE" },
    });
    await other.owner.deployKeys({ input: { workspaceId: other.workspaceId } });
    await expectCode(owner.revokeApiKey({ input: { id: createApiKey.apiKey.id, immediate: true } }), "not_found");
    const { verifyApiKey } = await other.owner.verifyApiKey({ input: { key: createApiKey.secret } });
    expect(verifyApiKey.code).toBe("VALID");
  });
});
