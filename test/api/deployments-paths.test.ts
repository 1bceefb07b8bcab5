import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Every way a key is checked answers from the same deployment: verifyApiKey
// through the edge's compiled runner and through Yoga, POST /v1/keys/verify,
// GET /v1/authorize, and the key used as the Bearer credential of an API request.

let app: TestApp;
let owner: KeywardClient;
let ownerToken: string;
let gated: string;
let live: string;
let slugs = 0;

beforeAll(async () => {
  app = await startTestApp();
  const person = await signUpUser(app, "paths");
  owner = person.client;
  ownerToken = person.token;
  const make = async () => {
    const { id } = (await owner.createWorkspace({ input: { name: "Paths", slug: `paths-${process.pid}-${++slugs}` } }))
      .createWorkspace;
    // The keys' service.forms.read scope names a service of their workspace.
    await owner.createService({ input: { workspaceId: id, slug: "forms", name: "Forms" } });
    return id;
  };
  gated = await make();
  live = await make();
  await owner.setRequireDeploy({ input: { workspaceId: gated, enabled: true } });
});
afterAll(() => app.close());

async function makeKey(workspaceId: string, scopes = ["keys:read", "service.forms.read"]) {
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId, name: "paths", type: "SECRET", environment: "LIVE", scopes },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

const DOCUMENT =
  "mutation Check($input: VerifyApiKeyInput!) { verifyApiKey(input: $input) { code deploymentVersion } }";

interface Answer {
  code: string;
  deploymentVersion: number | null;
}

/** The same verification on every path, as { path: answer }. */
async function everyPath(key: string, requiredScopes: string[] = []): Promise<Record<string, Answer>> {
  const body = JSON.stringify({ query: DOCUMENT, variables: { input: { key, requiredScopes } } });
  const init = () => ({
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` },
    body,
  });
  const graphql = async (response: Response) =>
    ((await response.json()) as { data: { verifyApiKey: Answer } }).data.verifyApiKey;
  // The runner compiles a document from its second use: both runs are asked.
  const first = await graphql(await app.fetch("/graphql", init()));
  const compiled = await graphql(await app.fetch("/graphql", init()));
  const yoga = await graphql(await app.yoga.fetch("http://keyward.test/graphql", init()));
  const sdk = (await owner.verifyApiKey({ input: { key, requiredScopes } })).verifyApiKey;
  const rest = (await (
    await app.fetch("/v1/keys/verify", { ...init(), body: JSON.stringify({ key, requiredScopes }) })
  ).json()) as Answer;
  const authorize = await app.fetch("/v1/authorize", {
    headers: { "x-api-key": key, "x-keyward-required-scopes": requiredScopes.join(",") },
  });
  const header = authorize.headers.get("x-keyward-deployment-version");
  const authorized: Answer = {
    code: authorize.status === 200 ? "VALID" : ((await authorize.json()) as { error: { code: string } }).error.code,
    deploymentVersion: header === null ? null : Number(header),
  };
  return {
    runner: first,
    compiled,
    yoga,
    sdk: { code: sdk.code, deploymentVersion: sdk.deploymentVersion },
    rest: { code: rest.code, deploymentVersion: rest.deploymentVersion },
    authorize: authorized,
  };
}

const same = (answer: Answer) => ({
  runner: answer,
  compiled: answer,
  yoga: answer,
  sdk: answer,
  rest: answer,
  // A refusal on /v1/authorize is an error body, which names no deployment.
  authorize: answer.code === "VALID" ? answer : { ...answer, deploymentVersion: null },
});

describe("deploymentVersion on every verification path", () => {
  it("names the deployment that answered, for valid and refused keys alike", async () => {
    const key = await makeKey(gated);
    const { deployKeys } = await owner.deployKeys({ input: { workspaceId: gated } });
    expect(await everyPath(key.secret)).toEqual(same({ code: "VALID", deploymentVersion: deployKeys.version }));
    expect(await everyPath(key.secret, ["keys:write"])).toEqual(
      same({ code: "insufficient_scope", deploymentVersion: deployKeys.version }),
    );
    const fresh = await makeKey(gated);
    expect(await everyPath(fresh.secret)).toEqual(
      same({ code: "key_not_deployed", deploymentVersion: deployKeys.version }),
    );
  });

  it("a pending change reaches no path until it is deployed, then every path at once", async () => {
    const key = await makeKey(gated);
    const before = (await owner.deployKeys({ input: { workspaceId: gated } })).deployKeys.version;
    await owner.updateApiKey({ input: { id: key.id, scopes: ["keys:read"] } });
    expect(await everyPath(key.secret, ["service.forms.read"])).toEqual(
      same({ code: "VALID", deploymentVersion: before }),
    );
    const after = (await owner.deployKeys({ input: { workspaceId: gated } })).deployKeys.version;
    expect(await everyPath(key.secret, ["service.forms.read"])).toEqual(
      same({ code: "insufficient_scope", deploymentVersion: after }),
    );
  });

  it("is null on every path for a workspace that does not require deploys", async () => {
    const key = await makeKey(live);
    expect(await everyPath(key.secret)).toEqual(same({ code: "VALID", deploymentVersion: null }));
  });
});

describe("reading deployments", () => {
  it("works through Yoga too (GET /graphql), whose context must carry the per-request loaders", async () => {
    const query = `{ deployments(workspaceId: "${gated}", first: 1) { edges { node { version createdBy { id } } } } }`;
    const response = await app.fetch(`/graphql?query=${encodeURIComponent(query)}`, {
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    const body = (await response.json()) as {
      data?: { deployments: { edges: { node: { version: number; createdBy: { id: string } | null } }[] } };
    };
    expect(response.status).toBe(200);
    expect(body.data?.deployments.edges[0]?.node.createdBy?.id).toEqual(expect.any(String));
  });
});

describe("a key used as the credential of an API request", () => {
  it("a key not yet deployed is refused with key_not_deployed, and works once deployed", async () => {
    const key = await makeKey(gated, ["keys:read"]);
    const error = await expectCode(
      app.client(key.secret).apiKeys({ workspaceId: gated, environment: "LIVE" }),
      "key_not_deployed",
    );
    expect(error.status).toBe(401);
    await owner.deployKeys({ input: { workspaceId: gated } });
    const { apiKeys } = await app.client(key.secret).apiKeys({ workspaceId: gated, environment: "LIVE" });
    expect(apiKeys.totalCount).toBeGreaterThan(0);
  });

  it("holds the deployed scopes: a scope taken away is still held until the deployment, and lost after it", async () => {
    const key = await makeKey(gated, ["keys:read"]);
    await owner.deployKeys({ input: { workspaceId: gated } });
    await owner.updateApiKey({ input: { id: key.id, scopes: [] } });
    const caller = app.client(key.secret);
    expect((await caller.apiKeys({ workspaceId: gated, environment: "LIVE" })).apiKeys.totalCount).toBeGreaterThan(0);
    await owner.deployKeys({ input: { workspaceId: gated } });
    await expectCode(caller.apiKeys({ workspaceId: gated, environment: "LIVE" }), "insufficient_scope");
  });

  it("a key revoked immediately stops authenticating at once", async () => {
    const key = await makeKey(gated, ["keys:read"]);
    await owner.deployKeys({ input: { workspaceId: gated } });
    const caller = app.client(key.secret);
    await caller.apiKeys({ workspaceId: gated, environment: "LIVE" });
    await owner.revokeApiKey({ input: { id: key.id } });
    // An ordinary revocation waits for the deployment, on this path too.
    await caller.apiKeys({ workspaceId: gated, environment: "LIVE" });
    await owner.revokeApiKey({ input: { id: key.id, immediate: true } });
    await expectCode(caller.apiKeys({ workspaceId: gated, environment: "LIVE" }), "invalid_api_key");
  });
});
