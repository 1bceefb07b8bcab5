import { randomUUID } from "node:crypto";
import type { CreateApiKeyInput } from "@keyward/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// A switched-off service (its subscription lapsed): from that moment every use of a
// key bound to it, and every verification requiring one of its scopes, answers
// service_inactive — HTTP 402 where the key is the caller's credential, valid:false
// from verifyApiKey — and turning it back on restores access at once. The plain-HTTP
// routes are held to the same answers in test/helpers/rest-suite.ts.

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let ws: { id: string };
let forms: { id: string };
let billing: { id: string };

const slug = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "owner");
  ws = (await owner.client.createWorkspace({ input: { name: "Lapsing", slug: slug("lapsing") } })).createWorkspace;
  const service = async (name: string) =>
    (await owner.client.createService({ input: { workspaceId: ws.id, slug: name, name } })).createService;
  forms = await service("forms");
  billing = await service("billing");
});
afterAll(() => app.close());

const setActive = (id: string, active: boolean) => owner.client.setServiceActive({ input: { id, active } });

// Every test starts with both services on, whatever an earlier one left behind.
beforeEach(async () => {
  await setActive(forms.id, true);
  await setActive(billing.id, true);
});

async function makeKey(input: Partial<CreateApiKeyInput> = {}) {
  const { createApiKey } = await owner.client.createApiKey({
    input: { workspaceId: ws.id, name: "key", type: "SECRET", environment: "LIVE", scopes: [], ...input },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

async function verify(key: string, requiredScopes: string[] = []) {
  return (await owner.client.verifyApiKey({ input: { key, requiredScopes } })).verifyApiKey;
}

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { extensions: { code: string; http: { status: number }; docUrl: string } }[] };
}

/** One query with the key as Bearer, by each way a GraphQL request is served: the edge runs a POST, Yoga a GET. */
async function asCredential(secret: string): Promise<Record<string, Answer>> {
  const query = `query Keys($ws: ID!) { apiKeys(workspaceId: $ws, environment: LIVE) { totalCount } }`;
  const body = JSON.stringify({ query, variables: { ws: ws.id } });
  const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
  const read = async (response: Response): Promise<Answer> => ({
    status: response.status,
    body: (await response.json()) as Answer["body"],
  });
  const get = `/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ ws: ws.id }))}`;
  return {
    "the edge's runner (POST)": await read(await app.fetch("/graphql", { method: "POST", headers, body })),
    "Yoga (GET)": await read(await app.fetch(get, { headers: { authorization: headers.authorization } })),
  };
}

describe("a key bound to a lapsed service", () => {
  it("used as the caller's credential answers 402 service_inactive on every GraphQL path, and 200 once back on", async () => {
    const key = await makeKey({ serviceId: forms.id, scopes: ["keys:read", "service.forms.read"] });
    await setActive(forms.id, false);
    for (const [path, answer] of Object.entries(await asCredential(key.secret))) {
      expect({ path, status: answer.status }).toEqual({ path, status: 402 });
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({
        code: "service_inactive",
        http: { status: 402 },
        docUrl: "http://keyward.test/docs/errors#service_inactive",
      });
    }
    await setActive(forms.id, true);
    for (const [path, answer] of Object.entries(await asCredential(key.secret))) {
      expect({ path, status: answer.status, errors: answer.body.errors }).toEqual({
        path,
        status: 200,
        errors: undefined,
      });
    }
  });

  it("cannot even verify other keys while lapsed (the verifier's own credential answers 402)", async () => {
    const verifier = await makeKey({ serviceId: billing.id, scopes: ["keys:verify"] });
    const customer = await makeKey();
    await setActive(billing.id, false);
    const error = await expectCode(
      app.client(verifier.secret).verifyApiKey({ input: { key: customer.secret } }),
      "service_inactive",
    );
    expect(error.status).toBe(402);
    await setActive(billing.id, true);
    expect(
      (await app.client(verifier.secret).verifyApiKey({ input: { key: customer.secret } })).verifyApiKey.code,
    ).toBe("VALID");
  });

  it("verifies as valid:false service_inactive from the moment it is off, and VALID the moment it is on", async () => {
    const key = await makeKey({ serviceId: forms.id, scopes: ["service.forms.read"] });
    expect((await verify(key.secret)).code).toBe("VALID");
    await setActive(forms.id, false);
    expect(await verify(key.secret)).toMatchObject({
      valid: false,
      code: "service_inactive",
      keyId: key.id,
      message: "The forms service is inactive: keys bound to it do not work until it is turned back on.",
    });
    await setActive(forms.id, true);
    expect((await verify(key.secret)).code).toBe("VALID");
  });

  it("a revoked key still says invalid_api_key, and the workspace switch still says keys_disabled", async () => {
    const other = (await owner.client.createWorkspace({ input: { name: "Order", slug: slug("order") } }))
      .createWorkspace;
    const { createService: lapsed } = await owner.client.createService({
      input: { workspaceId: other.id, slug: "lapsed", name: "Lapsed" },
    });
    const make = async () =>
      (
        await owner.client.createApiKey({
          input: { workspaceId: other.id, name: "k", type: "SECRET", environment: "LIVE", serviceId: lapsed.id },
        })
      ).createApiKey;
    const revoked = await make();
    await owner.client.revokeApiKey({ input: { id: revoked.apiKey.id } });
    const expiring = await owner.client.createApiKey({
      input: {
        workspaceId: other.id,
        name: "k",
        type: "SECRET",
        environment: "LIVE",
        serviceId: lapsed.id,
        expiresAt: new Date(app.clock.now.getTime() + 1000).toISOString(),
      },
    });
    await setActive(lapsed.id, false);
    app.clock.advance(2000);
    expect((await verify(revoked.secret)).code).toBe("invalid_api_key");
    // A switch that is off answers before expiry: both are turned back on.
    expect((await verify(expiring.createApiKey.secret)).code).toBe("service_inactive");
    await owner.client.setKeysEnabled({ input: { workspaceId: other.id, enabled: false } });
    expect((await verify(expiring.createApiKey.secret)).code).toBe("keys_disabled");
    await owner.client.setKeysEnabled({ input: { workspaceId: other.id, enabled: true } });
    await setActive(lapsed.id, true);
    expect((await verify(expiring.createApiKey.secret)).code).toBe("key_expired");
  });
});

describe("a verification requiring a lapsed service's scope", () => {
  it("answers service_inactive while the service is off, for an unbound key that holds the scope", async () => {
    const key = await makeKey({ scopes: ["service.forms.read", "service.billing.read"] });
    await setActive(forms.id, false);
    expect(await verify(key.secret, ["service.forms.read"])).toMatchObject({
      valid: false,
      code: "service_inactive",
      message: "The forms service is inactive: its scopes grant nothing until it is turned back on.",
    });
    // Another service's scopes, and no required scope at all, still verify.
    expect((await verify(key.secret, ["service.billing.read"])).code).toBe("VALID");
    expect((await verify(key.secret)).code).toBe("VALID");
    await setActive(forms.id, true);
    expect((await verify(key.secret, ["service.forms.read"])).code).toBe("VALID");
  });

  it("a customer adding a lapsed service's scope to a forward-auth request learns nothing unless its key holds it", async () => {
    const key = await makeKey({ scopes: ["service.billing.read"] });
    await setActive(forms.id, false);
    const asked = (scopes: string) =>
      app.fetch("/v1/authorize", { headers: { "x-api-key": key.secret, "x-keyward-required-scopes": scopes } });
    const probe = await asked("service.billing.read service.forms.read");
    expect(probe.status).toBe(403);
    expect(((await probe.json()) as { error: { code: string } }).error.code).toBe("insufficient_scope");
    expect((await verify(key.secret, ["service.forms.read"])).code).toBe("insufficient_scope");
    await setActive(forms.id, true);
    expect((await asked("service.billing.read")).status).toBe(200);
  });

  it("another workspace switching off its own service of the same slug changes nothing here", async () => {
    const stranger = await signUpUser(app, "stranger");
    const theirs = (await stranger.client.createWorkspace({ input: { name: "T", slug: slug("theirs") } }))
      .createWorkspace;
    const { createService } = await stranger.client.createService({
      input: { workspaceId: theirs.id, slug: "forms", name: "Their forms" },
    });
    await stranger.client.setServiceActive({ input: { id: createService.id, active: false } });
    const key = await makeKey({ serviceId: forms.id, scopes: ["service.forms.read"] });
    expect((await verify(key.secret, ["service.forms.read"])).code).toBe("VALID");
    const authorized = await app.fetch("/v1/authorize?scopes=service.forms.read", {
      headers: { "x-api-key": key.secret },
    });
    expect(authorized.status).toBe(200);
  });

  it("HEAD /v1/authorize answers 402 with no body", async () => {
    const key = await makeKey({ serviceId: forms.id });
    await setActive(forms.id, false);
    const response = await app.fetch("/v1/authorize", { method: "HEAD", headers: { "x-api-key": key.secret } });
    expect({ status: response.status, body: await response.text() }).toEqual({ status: 402, body: "" });
    await setActive(forms.id, true);
  });
});
