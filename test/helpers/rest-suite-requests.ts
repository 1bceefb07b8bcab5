import { describe, expect, it } from "vitest";
import { postJson } from "./rest-fixture";
import { expectRestError, type RestSuiteContext } from "./rest-suite";

// Bad requests to POST /v1/keys/verify, what /v1/authorize reads from a gateway's
// request, and the request log — the same through either transport.

export function describeRestRequests(context: RestSuiteContext) {
  const validKey = () => context.fixture.cases.valid.key;
  const verify = (init: RequestInit) => context.http.fetch("/v1/keys/verify", init);
  const token = () => context.fixture.owner.token;

  describe("POST /v1/keys/verify: bad requests are validation_failed naming the field", () => {
    it.each([
      ["a GET", () => ({ method: "GET", headers: { authorization: `Bearer ${token()}` } }), "method"],
      [
        "a form post",
        () => ({
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${token()}` },
          body: `key=${validKey()}`,
        }),
        "Content-Type",
      ],
      ["broken JSON", () => postJson('{"key": ', token()), "body"],
      ["a JSON array", () => postJson([validKey()], token()), "body"],
      ["a JSON string", () => postJson(JSON.stringify(validKey()), token()), "body"],
      ["no key", () => postJson({ requiredScopes: [] }, token()), "key"],
      ["a numeric key", () => postJson({ key: 42 }, token()), "key"],
      ["an unknown field", () => postJson({ key: validKey(), audienceToken: "x" }, token()), "audienceToken"],
      [
        "a scope that is not a string",
        () => postJson({ key: validKey(), requiredScopes: [1] }, token()),
        "requiredScopes.0",
      ],
      [
        "scopes as a string",
        () => postJson({ key: validKey(), requiredScopes: "keys:read" }, token()),
        "requiredScopes",
      ],
      ["a numeric origin", () => postJson({ key: validKey(), origin: 1 }, token()), "origin"],
      [
        "101 required scopes",
        () => postJson({ key: validKey(), requiredScopes: Array.from({ length: 101 }, (_, i) => `s${i}`) }, token()),
        "requiredScopes",
      ],
    ] as const)("%s", async (_, init, field) => {
      const response = await verify(init());
      await expectRestError(response, "validation_failed", field);
      if (field === "method") expect(response.headers.get("allow")).toBe("POST");
    });

    it("a body over 2 MiB is 413 payload_too_large, as on POST /graphql", async () => {
      const response = await verify(postJson({ key: validKey(), origin: "x".repeat(2 * 1024 * 1024) }, token()));
      const body = await expectRestError(response, "payload_too_large", "body");
      expect(body.error.message).toContain("exceeds");
    });

    it("bytes that are not UTF-8 are refused, not turned into U+FFFD", async () => {
      const bytes = Buffer.concat([Buffer.from('{"key":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      const response = await verify({ ...postJson("", token()), body: bytes });
      const body = await expectRestError(response, "validation_failed", "body");
      expect(body.error.message).toContain("UTF-8");
    });

    it("null optional fields are accepted, as GraphQL accepts them", async () => {
      const response = await verify(
        postJson({ key: validKey(), requiredScopes: null, origin: null, ip: null }, token()),
      );
      expect(((await response.json()) as { code: string }).code).toBe("VALID");
    });
  });

  describe("/v1/authorize: what it reads from the gateway's request", () => {
    const authorize = (path: string, headers: Record<string, string>, init: RequestInit = {}) =>
      context.http.fetch(path, { ...init, headers });

    it("no key at all: 401 authentication_required with a Bearer challenge", async () => {
      const response = await authorize("/v1/authorize", {});
      await expectRestError(response, "authentication_required");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="keyward"');
    });

    it("takes the key from Authorization: Bearer, and X-API-Key first when both are sent", async () => {
      expect((await authorize("/v1/authorize", { authorization: `Bearer ${validKey()}` })).status).toBe(200);
      const both = await authorize("/v1/authorize", { authorization: "Bearer upstream-jwt", "x-api-key": validKey() });
      expect(both.status).toBe(200);
      await expectRestError(
        await authorize("/v1/authorize", { authorization: "Basic abc" }),
        "authentication_required",
      );
    });

    it("a client adding ?scopes= cannot drop the scope the gateway requires: all of them must be held", async () => {
      const key = validKey(); // holds service.forms.read and keys:read
      const gateway = { "x-api-key": key, "x-keyward-required-scopes": "keys:write" };
      const body = await expectRestError(
        await authorize("/v1/authorize?scopes=keys:read", gateway),
        "insufficient_scope",
      );
      expect(body.error.message).toContain("keys:write");
      const held = { "x-api-key": key, "x-keyward-required-scopes": "service.forms.read" };
      expect((await authorize("/v1/authorize?scopes=keys:read", held)).status).toBe(200);
      await expectRestError(
        await authorize("/v1/authorize?scopes=keys:read&scopes=keys:write", held),
        "insufficient_scope",
      );
      expect(
        (await authorize("/v1/authorize?scopes=keys:read,%20service.forms.read", { "x-api-key": key })).status,
      ).toBe(200);
      const spaced = { "x-api-key": key, "x-keyward-required-scopes": " keys:read   service.forms.write " };
      await expectRestError(await authorize("/v1/authorize", spaced), "insufficient_scope");
    });

    it("a client cannot claim an allowed address with X-Forwarded-For or X-Real-IP", async () => {
      const fenced = context.fixture.cases.ip_not_allowed.key;
      const spoofed = { "x-api-key": fenced, "x-forwarded-for": "198.51.100.7", "x-real-ip": "198.51.100.7" };
      await expectRestError(await authorize("/v1/authorize", spoofed), "ip_not_allowed");
    });

    it("answers HEAD, any method and Envoy's appended path alike, without reading a body", async () => {
      const key = { "x-api-key": validKey() };
      const head = await authorize("/v1/authorize", key, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("x-keyward-key-id")).toBeTruthy();
      expect(await head.text()).toBe("");
      const envoy = await authorize("/v1/authorize/api/orders/42?page=2", key, { method: "DELETE" });
      expect(envoy.status).toBe(200);
      const posted = await authorize("/v1/authorize/api/orders", key, { method: "POST", body: "{not json" });
      expect(posted.status).toBe(200);
    });

    it("each answer spends the key's rate limit, as verifyApiKey does, and counts as a use", async () => {
      const { secret, id } = await context.fixture.makeKey({ rateLimit: { limit: 5, windowSeconds: 60 } });
      const remaining = async () =>
        (await authorize("/v1/authorize", { "x-api-key": secret })).headers.get("x-ratelimit-remaining");
      expect([await remaining(), await remaining()]).toEqual(["4", "3"]);
      const graphql = await context.fixture.owner.client.verifyApiKey({ input: { key: secret } });
      expect(graphql.verifyApiKey.ratelimit?.remaining).toBe(2);
      await context.app.flushUsage();
      expect((await context.app.db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).not.toBeNull();
    });
  });

  describe("the request log", () => {
    it("has one line per request with method, path and status, and never the key", async () => {
      const { app } = context;
      const key = validKey();
      const before = app.logs.length;
      await context.http.fetch("/v1/authorize?scopes=keys:write", { headers: { "x-api-key": key } });
      await verify(postJson({ key }, token()));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const lines = app.logs.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.filter((l) => l.msg === "request").map((l) => [l.method, l.path, l.status])).toEqual([
        ["GET", "/v1/authorize", 403],
        ["POST", "/v1/keys/verify", 200],
      ]);
      const all = app.logs.join("");
      for (const c of Object.values(context.fixture.cases)) if (c.key.length > 20) expect(all).not.toContain(c.key);
      expect(all).not.toContain(token());
    });
  });
}
