import { createClient, type KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, RateLimits } from "../../server/keys/ratelimit";
import { createLogger } from "../../server/logger";
import { PASSWORD, signUpUser, startTestApp, TEST_IP, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Limits on the callers of the API: a key spends its own requests (X-RateLimit-*
// headers on every answer, 429 + Retry-After when exhausted), verifyApiKey is
// exempt, sign-in is limited per IP, and a Redis outage keeps limits enforced in
// memory instead of failing.

/** A client that records every raw response, so headers can be read. */
function recordingClient(app: TestApp, token?: string, ip = TEST_IP) {
  const responses: Response[] = [];
  const client: KeywardClient = createClient({
    url: "http://keyward.test/graphql",
    token,
    fetch: (input, init) => app.serve(input, init, { ip }),
    onResponse: (response) => responses.push(response),
  });
  const last = () => {
    const response = responses.at(-1);
    if (!response) throw new Error("no response recorded");
    return response;
  };
  return { client, last };
}

const nowSeconds = () => Date.now() / 1000;

describe("key-authenticated requests", () => {
  let app: TestApp;
  let owner: Awaited<ReturnType<typeof signUpUser>>;
  let ws: { id: string };

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUpUser(app, "limits-owner");
    ws = (await owner.client.createWorkspace({ input: { name: "Limits", slug: `limits-${process.pid}` } }))
      .createWorkspace;
  });
  afterAll(() => app.close());

  async function limitedKey(scopes: string[]) {
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId: ws.id,
        name: "limited",
        type: "SECRET",
        environment: "LIVE",
        scopes,
        rateLimit: { limit: 5, windowSeconds: 60 },
      },
    });
    return createApiKey;
  }

  it("carry X-RateLimit-* headers counting down, then 429 with Retry-After", async () => {
    const key = await limitedKey(["keys:read"]);
    const { client, last } = recordingClient(app, key.secret);
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const before = nowSeconds();
      const { apiKeys } = await client.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
      expect(apiKeys.totalCount).toBeGreaterThan(0);
      const headers = last().headers;
      expect(last().status).toBe(200);
      expect(headers.get("x-ratelimit-limit")).toBe("5");
      remaining.push(headers.get("x-ratelimit-remaining") ?? "missing");
      const reset = Number(headers.get("x-ratelimit-reset"));
      expect(Number.isInteger(reset)).toBe(true);
      // Epoch seconds, in the future, within the 60-second window.
      expect(reset).toBeGreaterThan(before);
      expect(reset).toBeLessThanOrEqual(Math.ceil(nowSeconds()) + 60);
      expect(headers.get("retry-after")).toBeNull();
    }
    expect(remaining).toEqual(["4", "3", "2", "1", "0"]);

    const error = await expectCode(client.apiKeys({ workspaceId: ws.id, environment: "LIVE" }), "rate_limit_exceeded");
    expect(error.status).toBe(429);
    expect(last().status).toBe(429);
    expect(last().headers.get("x-ratelimit-limit")).toBe("5");
    expect(last().headers.get("x-ratelimit-remaining")).toBe("0");
    const retryAfter = Number(last().headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Still refused: a refusal does not reset the window.
    await expectCode(client.apiKeys({ workspaceId: ws.id, environment: "LIVE" }), "rate_limit_exceeded");
  });

  it("a request refused with 429 is not a use of the key: lastUsedAt stays at the last answered one", async () => {
    const key = await limitedKey(["keys:read"]);
    const { client } = recordingClient(app, key.secret);
    await app.flushUsage();
    for (let i = 0; i < 5; i++) {
      app.clock.advance(1000);
      await client.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    }
    const lastAnswered = app.clock.now.toISOString();
    app.clock.advance(1000);
    await expectCode(client.apiKeys({ workspaceId: ws.id, environment: "LIVE" }), "rate_limit_exceeded");
    await app.flushUsage();
    const { apiKey } = await owner.client.apiKey({ id: key.apiKey.id });
    expect(apiKey?.lastUsedAt).toBe(lastAnswered);
  });

  it("verifyApiKey calls are exempt from the calling key's own limit", async () => {
    const verifierKey = await limitedKey(["keys:read", "keys:verify"]);
    const { createApiKey: customer } = await owner.client.createApiKey({
      input: { workspaceId: ws.id, name: "customer", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
    });
    const { client, last } = recordingClient(app, verifierKey.secret);
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { verifyApiKey } = await client.verifyApiKey({ input: { key: customer.secret } });
      expect(last().status).toBe(200);
      codes.push(verifyApiKey.code);
    }
    expect(codes).toEqual(Array(10).fill("VALID"));
    // None of the ten spent the verifier's own limit of 5.
    await client.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(last().headers.get("x-ratelimit-remaining")).toBe("4");
  });
});

describe("sign-in is limited per IP", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ KEYWARD_AUTH_RATE_LIMIT: "3" });
  });
  afterAll(() => app.close());

  it("3 attempts answer normally, the 4th is 429 with Retry-After; another IP is not limited", async () => {
    const email = uniqueEmail("limited");
    // Signed up from elsewhere, so none of TEST_IP's attempts are spent.
    const elsewhere = recordingClient(app, undefined, "198.51.100.50");
    await elsewhere.client.signUp({ input: { email, password: PASSWORD, name: "Limited" } });

    const { client, last } = recordingClient(app);
    await expectCode(client.signIn({ input: { email, password: "wrong password 1" } }), "authentication_required");
    expect(last().headers.get("x-ratelimit-remaining")).toBe("2");
    const { signIn } = await client.signIn({ input: { email, password: PASSWORD } });
    expect(signIn.token).toMatch(/^kws_/);
    expect(last().headers.get("x-ratelimit-remaining")).toBe("1");
    await expectCode(client.signIn({ input: { email, password: "wrong password 2" } }), "authentication_required");
    expect(last().headers.get("x-ratelimit-limit")).toBe("3");
    expect(last().headers.get("x-ratelimit-remaining")).toBe("0");

    // The right password does not help once the IP's attempts are spent.
    const error = await expectCode(client.signIn({ input: { email, password: PASSWORD } }), "rate_limit_exceeded");
    expect(error.status).toBe(429);
    expect(last().status).toBe(429);
    expect(Number(last().headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Sign-up from the same IP is limited by the same count.
    await expectCode(
      client.signUp({ input: { email: uniqueEmail("late"), password: PASSWORD, name: "Late" } }),
      "rate_limit_exceeded",
    );

    const other = recordingClient(app, undefined, "198.51.100.9");
    const again = await other.client.signIn({ input: { email, password: PASSWORD } });
    expect(again.signIn.token).toMatch(/^kws_/);
    expect(other.last().status).toBe(200);
    expect(other.last().headers.get("x-ratelimit-remaining")).toBe("2");
  });
});

describe("Redis down", () => {
  it("consume() falls back to memory: answers, enforces the limit, never throws", async () => {
    // Port 1 refuses connections.
    const redis = connectRedis("redis://127.0.0.1:1", createLogger("silent"));
    try {
      const limits = new RateLimits(redis);
      const limit = { limit: 2, windowSeconds: 60 };
      const decisions = [];
      for (let i = 0; i < 3; i++) decisions.push(await limits.consume("key", "subject-1", limit));
      expect(decisions.map((d) => ({ allowed: d.allowed, limit: d.limit, remaining: d.remaining }))).toEqual([
        { allowed: true, limit: 2, remaining: 1 },
        { allowed: true, limit: 2, remaining: 0 },
        { allowed: false, limit: 2, remaining: 0 },
      ]);
      expect(decisions[2]?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      // Another subject has its own count.
      expect((await limits.consume("key", "subject-2", limit)).allowed).toBe(true);
      // All of it was answered without Redis.
      expect(redis.status).not.toBe("ready");
    } finally {
      redis.disconnect();
    }
  });
});
