import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog, isErrorCode } from "../../server/errors";
import type { TestApp } from "./app";
import { expectCode } from "./expect-error";
import { CASE_NAMES, postJson, type RestFixture, type RestTransport, seedRestFixture, stable } from "./rest-fixture";

// The plain-HTTP verification routes, case by case against GraphQL's verifyApiKey.
// Run once per transport: yoga.fetch (test/api/rest-verify.test.ts) and the real
// node:http handler (test/server/rest-node.test.ts).

export interface RestSuiteContext {
  app: TestApp;
  http: RestTransport;
  fixture: RestFixture;
}

interface ErrorBody {
  error: { code: string; message: string; field?: string; docUrl: string; requestId: string };
}

/** Asserts the one error shape of the plain-HTTP routes and returns its body. */
export async function expectRestError(response: Response, code: string, field?: string): Promise<ErrorBody> {
  const body = (await response.json()) as ErrorBody;
  expect({ status: response.status, ...body.error }).toMatchObject({
    status: isErrorCode(code) ? catalog[code].status : 500,
    code,
    ...(field ? { field } : {}),
  });
  expect(body.error.docUrl).toMatch(new RegExp(`/docs/errors#${code}$`));
  expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  return body;
}

/** What /v1/authorize answers for a verifyApiKey code: the key is the credential, so unknown is invalid_api_key. */
const authorizeCode = (code: string) => (code === "not_found" ? "invalid_api_key" : code);

export function describeRestRoutes(
  start: () => Promise<{ app: TestApp; http: RestTransport; close(): Promise<void> }>,
) {
  const context = {} as RestSuiteContext;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const started = await start();
    context.app = started.app;
    context.http = started.http;
    close = started.close;
    context.fixture = await seedRestFixture(context.app, context.http.clientIp);
  });
  afterAll(() => close());

  describe("every code, on both routes, as verifyApiKey answers it", () => {
    it.each(CASE_NAMES)("%s", async (name) => {
      const { http, fixture } = context;
      const c = fixture.cases[name];
      const input = { key: c.key, requiredScopes: c.requiredScopes, origin: c.origin, ip: http.clientIp };
      const graphql = (await fixture.owner.client.verifyApiKey({ input })).verifyApiKey;
      expect(graphql.code).toBe(c.code);

      const rest = await http.fetch("/v1/keys/verify", postJson(input, fixture.owner.token));
      expect(rest.status).toBe(200);
      expect(rest.headers.get("cache-control")).toBe("no-store");
      expect(stable((await rest.json()) as Record<string, unknown>)).toEqual(stable(graphql));

      const headers: Record<string, string> = { "x-api-key": c.key };
      if (c.requiredScopes) headers["x-keyward-required-scopes"] = c.requiredScopes.join(",");
      if (c.origin) headers.origin = c.origin;
      const authorized = await http.fetch("/v1/authorize", { headers });
      if (c.code === "VALID") {
        expect(authorized.status).toBe(200);
        expect({
          keyId: authorized.headers.get("x-keyward-key-id"),
          workspaceId: authorized.headers.get("x-keyward-workspace-id"),
          environment: authorized.headers.get("x-keyward-environment"),
          type: authorized.headers.get("x-keyward-key-type"),
          scopes: authorized.headers.get("x-keyward-scopes")?.split(","),
          limit: Number(authorized.headers.get("x-ratelimit-limit")),
          deploymentVersion: authorized.headers.get("x-keyward-deployment-version"),
          body: stable((await authorized.json()) as Record<string, unknown>),
        }).toEqual({
          keyId: graphql.keyId,
          workspaceId: graphql.workspaceId,
          environment: graphql.environment,
          type: graphql.type,
          scopes: graphql.scopes,
          limit: graphql.ratelimit?.limit,
          deploymentVersion: graphql.deploymentVersion === null ? null : String(graphql.deploymentVersion),
          body: stable(graphql),
        });
        return;
      }
      const body = await expectRestError(authorized, authorizeCode(c.code));
      if (c.code !== "not_found") expect(body.error.message).toBe(graphql.message);
      // A refusal names no key, and the gateway's upstream never runs.
      expect(authorized.headers.get("x-keyward-key-id")).toBeNull();
      if (authorized.status === 401) expect(authorized.headers.get("www-authenticate")).toMatch(/^Bearer /);
      if (c.code === "rate_limit_exceeded") {
        expect(Number(authorized.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(authorized.headers.get("x-ratelimit-remaining")).toBe("0");
      }
    });
  });

  describe("POST /v1/keys/verify: who is calling", () => {
    const valid = () => context.fixture.cases.valid.key;

    it.each([
      ["no credential", undefined, "authentication_required"],
      ["an unknown session token", `kws_${"a".repeat(43)}`, "authentication_required"],
      ["a revoked verifier key", "revoked", "invalid_api_key"],
      ["a publishable key", "publishable", "publishable_key_write"],
      ["a verifier key bound to a lapsed service", "bound", "service_inactive"],
    ])("an attacker with %s gets the caller error verifyApiKey gives, not a verdict", async (_, credential, code) => {
      const { app, http, fixture } = context;
      let token = credential;
      if (credential === "revoked") token = fixture.cases.revoked.key;
      if (credential === "publishable") token = fixture.cases["publishable from its origin"].key;
      if (credential === "bound") token = fixture.cases["bound to an inactive service"].key;
      const headers = { origin: "https://app.example.com" };
      await expectCode(app.client(token, headers).verifyApiKey({ input: { key: valid() } }), code);
      const response = await http.fetch("/v1/keys/verify", postJson({ key: valid() }, token, headers));
      const body = await expectRestError(response, code);
      expect(JSON.stringify(body)).not.toContain("keyId");
    });

    it("a malformed Authorization header is authentication_required", async () => {
      const response = await context.http.fetch(
        "/v1/keys/verify",
        postJson({ key: valid() }, undefined, { authorization: "Basic dXNlcjpwYXNz" }),
      );
      await expectRestError(response, "authentication_required");
    });

    it("a verifier key answers for its own workspace's keys and not_found for another's, like verifyApiKey", async () => {
      const { app, http, fixture } = context;
      const verifier = (await fixture.makeKey({ name: "verifier", scopes: ["keys:verify"] })).secret;
      const bare = (await fixture.makeKey({ name: "no verify scope", scopes: ["keys:read"] })).secret;
      for (const [token, key, code] of [
        [verifier, valid(), "VALID"],
        [verifier, fixture.strangerKey, "not_found"],
        [bare, valid(), "not_found"],
      ] as const) {
        const graphql = (await app.client(token).verifyApiKey({ input: { key } })).verifyApiKey;
        const response = await http.fetch("/v1/keys/verify", postJson({ key }, token));
        const rest = (await response.json()) as Record<string, unknown>;
        expect({ code: rest.code, same: stable(rest) }).toEqual({ code, same: stable(graphql) });
      }
    });
  });

  return context;
}
