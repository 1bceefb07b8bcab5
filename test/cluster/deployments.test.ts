import { randomBytes } from "node:crypto";
import { createClient, type KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { type ServerProcess, startServer, waitFor } from "../helpers/processes";

// Deployments across two real Keyward processes sharing PostgreSQL: a deployment,
// a rollback and an immediate revocation made on A reach B's warm cache as fast as
// a revocation does, and two deployments made at once on A and B take distinct,
// consecutive versions. Needs DATABASE_URL; `.ci/run` provides it.

let database: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;
let ownerA: KeywardClient;
let ownerB: KeywardClient;
let workspaceId: string;

const client = (server: ServerProcess, token?: string) => createClient({ url: `${server.url}/graphql`, token });

beforeAll(async () => {
  if (!process.env.DATABASE_URL)
    throw new Error("the deployment cluster tests need DATABASE_URL pointing at PostgreSQL");
  database = await openTestDatabase();
  const env = { DATABASE_URL: database.url ?? "", KEYWARD_MASTER_KEY: randomBytes(32).toString("base64") };
  [a, b] = await Promise.all([startServer(env), startServer(env)]);
  const { signUp } = await client(a).signUp({
    input: { email: "deployer@cluster.test", password: "correct horse battery staple", name: "Deployer" },
  });
  ownerA = client(a, signUp.token);
  ownerB = client(b, signUp.token);
  workspaceId = (await ownerA.createWorkspace({ input: { name: "Gated", slug: "gated-cluster" } })).createWorkspace.id;
  // The key below holds service.forms.read, which must name a service of the workspace.
  await ownerA.createService({ input: { workspaceId, slug: "forms", name: "Forms" } });
  await ownerA.setRequireDeploy({ input: { workspaceId, enabled: true } });
}, 90_000);

afterAll(async () => {
  a?.kill();
  b?.kill();
  await database?.drop();
});

async function onB(key: string, requiredScopes: string[] = []) {
  return (await ownerB.verifyApiKey({ input: { key, requiredScopes } })).verifyApiKey;
}

/** Waits until B answers `code` (from `version`), and checks it took under a second. */
async function seenOnB(key: string, code: string, version: number, requiredScopes: string[] = []) {
  const changedAt = Date.now();
  await waitFor(async () => {
    const answer = await onB(key, requiredScopes);
    return answer.code === code && answer.deploymentVersion === version;
  }, 5_000);
  expect(Date.now() - changedAt).toBeLessThan(1_000);
}

describe("two instances sharing PostgreSQL", () => {
  it("a deployment, a rollback and an immediate revocation on A reach B's warm cache within one second", async () => {
    const { createApiKey } = await ownerA.createApiKey({
      input: { workspaceId, name: "k", type: "SECRET", environment: "LIVE", scopes: ["service.forms.read"] },
    });
    const key = createApiKey.secret;
    // B holds the key, the workspace and the deployment's answer for it: not listed.
    expect(await onB(key)).toMatchObject({ code: "key_not_deployed", deploymentVersion: 1 });
    expect(await onB(key)).toMatchObject({ code: "key_not_deployed", deploymentVersion: 1 });

    const v2 = (await ownerA.deployKeys({ input: { workspaceId } })).deployKeys.version;
    await seenOnB(key, "VALID", v2, ["service.forms.read"]);

    await ownerA.updateApiKey({ input: { id: createApiKey.apiKey.id, scopes: [] } });
    // Pending: B keeps answering from v2.
    expect(await onB(key, ["service.forms.read"])).toMatchObject({ code: "VALID", deploymentVersion: v2 });
    const v3 = (await ownerA.deployKeys({ input: { workspaceId } })).deployKeys.version;
    await seenOnB(key, "insufficient_scope", v3, ["service.forms.read"]);

    const v4 = (await ownerA.rollbackKeys({ input: { workspaceId, version: v2 } })).rollbackKeys.version;
    await seenOnB(key, "VALID", v4, ["service.forms.read"]);

    await ownerA.revokeApiKey({ input: { id: createApiKey.apiKey.id, immediate: true } });
    await seenOnB(key, "invalid_api_key", v4);
  });

  it("deployments made at once on A and B take distinct, consecutive versions", async () => {
    const before = (await ownerA.deployments({ workspaceId, first: 1 })).deployments.edges[0]?.node.version ?? 0;
    const made = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? ownerB : ownerA).deployKeys({ input: { workspaceId, note: `at once ${i}` } }),
      ),
    );
    const versions = made.map((m) => m.deployKeys.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 8 }, (_, i) => before + 1 + i));
  });
});
