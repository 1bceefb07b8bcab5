import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { parseExposition, type Samples, sampleValue } from "../helpers/prometheus";

// GET /metrics (KEYWARD_METRICS=on): Prometheus text, behind its own Bearer token
// when one is set, and series that move with what the server does — every
// verification path counted by its outcome, latency per route, cache, limits,
// usage flushes, database queries, webhooks and the process. Never a secret.

const TOKEN = "scrape-token-0123456789abcdef";

let app: TestApp;
let owner: KeywardClient;
let ownerToken: string;
let workspaceId: string;

beforeAll(async () => {
  app = await startTestApp({ KEYWARD_METRICS: "on", KEYWARD_METRICS_TOKEN: TOKEN }, { countQueries: true });
  const person = await signUpUser(app, "metrics");
  owner = person.client;
  ownerToken = person.token;
  workspaceId = (await owner.createWorkspace({ input: { name: "Metrics", slug: `metrics-${process.pid}` } }))
    .createWorkspace.id;
});
afterAll(() => app.close());

async function scrape(): Promise<{ text: string; samples: Samples }> {
  const response = await app.fetch("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

async function makeKey(rateLimit?: { limit: number; windowSeconds: number }) {
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId, name: "customer", type: "SECRET", environment: "LIVE", scopes: ["keys:read"], rateLimit },
  });
  return createApiKey.secret;
}

const VERIFY = "mutation Check($input: VerifyApiKeyInput!) { verifyApiKey(input: $input) { code } }";

const graphql = (key: string, accept = "application/json") =>
  app.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept, authorization: `Bearer ${ownerToken}` },
    body: JSON.stringify({ query: VERIFY, operationName: "Check", variables: { input: { key } } }),
  });

describe("who may read /metrics", () => {
  it("a scraper without the token is refused with the catalog's 401", async () => {
    const response = await app.fetch("/metrics");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    const body = (await response.json()) as { error: { code: string; docUrl: string } };
    expect(body.error.code).toBe("authentication_required");
    expect(body.error.docUrl).toMatch(/\/docs\/errors#authentication_required$/);
  });

  it("guessing the token is refused: a wrong one, one sharing its prefix, the token itself without Bearer", async () => {
    for (const authorization of [
      `Bearer wrong-token-0123456789`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      TOKEN,
    ]) {
      const response = await app.fetch("/metrics", { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(await response.text()).not.toContain("keyward_");
    }
  });

  it("an ordinary session token is not a metrics token", async () => {
    const response = await app.fetch("/metrics", { headers: { authorization: `Bearer ${ownerToken}` } });
    expect(response.status).toBe(401);
  });

  it("with metrics off, /metrics is an unknown path: the same 404 as any other", async () => {
    const off = await startTestApp();
    try {
      const metrics = await off.fetch("/metrics");
      const unknown = await off.fetch("/no-such-path");
      expect(metrics.status).toBe(404);
      expect(metrics.status).toBe(unknown.status);
      expect(await metrics.text()).toBe(await unknown.text());
    } finally {
      await off.close();
    }
  });

  it("without a token configured, metrics are open (a private scrape network)", async () => {
    const open = await startTestApp({ KEYWARD_METRICS: "on" });
    try {
      const response = await open.fetch("/metrics");
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("process_cpu_user_seconds_total");
    } finally {
      await open.close();
    }
  });
});

describe("what /metrics says", () => {
  it("counts each verification path by outcome, and times each route", async () => {
    const key = await makeKey();
    const before = (await scrape()).samples;
    expect((await (await graphql(key)).json()) as unknown).toEqual({ data: { verifyApiKey: { code: "VALID" } } });
    expect((await graphql(key)).status).toBe(200);
    expect((await graphql("sk_live_not-a-real-key")).status).toBe(200);
    // An Accept header the edge's runner leaves to Yoga (a server-sent event stream).
    const streamed = await graphql(key, "text/event-stream");
    expect(await streamed.text()).toContain('"code":"VALID"');
    const rest = await app.fetch("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` },
      body: JSON.stringify({ key }),
    });
    expect(rest.status).toBe(200);
    expect((await app.fetch("/v1/authorize", { headers: { "x-api-key": key } })).status).toBe(200);
    const after = (await scrape()).samples;

    const moved = (path: string, code: string) =>
      sampleValue(after, "keyward_verifications_total", { path, code }) -
      sampleValue(before, "keyward_verifications_total", { path, code });
    expect(moved("graphql_fast", "VALID")).toBe(2);
    expect(moved("graphql_fast", "invalid_key_format")).toBe(1);
    expect(moved("graphql_yoga", "VALID")).toBe(1);
    expect(moved("rest_verify", "VALID")).toBe(1);
    expect(moved("authorize", "VALID")).toBe(1);

    const count = (samples: Samples, route: string, engine: string) =>
      sampleValue(samples, "keyward_http_request_duration_seconds_count", { route, engine, status: "2xx" });
    expect(count(after, "/graphql", "edge") - count(before, "/graphql", "edge")).toBe(3);
    expect(count(after, "/graphql", "yoga") - count(before, "/graphql", "yoga")).toBe(1);
    expect(count(after, "/v1/authorize", "edge") - count(before, "/v1/authorize", "edge")).toBe(1);
    // The scrape before this one was timed too.
    expect(count(after, "/metrics", "edge")).toBeGreaterThan(0);
    expect(sampleValue(after, "keyward_key_cache_hits_total")).toBeGreaterThan(
      sampleValue(before, "keyward_key_cache_hits_total"),
    );
  });

  it("counts rate-limit refusals by limit kind", async () => {
    const key = await makeKey({ limit: 1, windowSeconds: 3600 });
    const before = (await scrape()).samples;
    await graphql(key);
    const refused = (await (await graphql(key)).json()) as { data: { verifyApiKey: { code: string } } };
    expect(refused.data.verifyApiKey.code).toBe("rate_limit_exceeded");
    const after = (await scrape()).samples;
    const rejections = (s: Samples) => sampleValue(s, "keyward_rate_limit_rejections_total", { limit: "key" });
    expect(rejections(after) - rejections(before)).toBe(1);
    expect(
      sampleValue(after, "keyward_verifications_total", { path: "graphql_fast", code: "rate_limit_exceeded" }),
    ).toBeGreaterThan(0);
  });

  it("reports usage flushes (batch rows, lag) and database query latency", async () => {
    await graphql(await makeKey());
    const before = (await scrape()).samples;
    expect(sampleValue(before, "keyward_usage_pending_entries")).toBeGreaterThan(0);
    await app.flushUsage();
    const after = (await scrape()).samples;
    expect(sampleValue(after, "keyward_usage_flush_batch_rows_count")).toBeGreaterThan(
      sampleValue(before, "keyward_usage_flush_batch_rows_count"),
    );
    expect(sampleValue(after, "keyward_usage_pending_entries")).toBe(0);
    expect(sampleValue(after, "keyward_usage_flush_lag_seconds")).toBeLessThan(5);
    expect(
      sampleValue(after, "keyward_db_query_duration_seconds_count", { database: app.database.database.kind }),
    ).toBeGreaterThan(
      sampleValue(before, "keyward_db_query_duration_seconds_count", { database: app.database.database.kind }),
    );
  });

  it("reports the webhook queue and the process", async () => {
    const { samples } = await scrape();
    expect(samples.get("keyward_webhook_queue_depth")).toBe(0);
    expect(samples.has('keyward_webhook_attempts_total{result="failed"}')).toBe(true);
    expect(samples.get("process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(samples.get("nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    // The pool's counts exist on PostgreSQL only (the embedded database is one in-process connection).
    const pool = sampleValue(samples, "keyward_db_pool_connections", { state: "total" });
    if (app.database.database.kind === "postgres") expect(pool).toBeGreaterThan(0);
    else expect(samples.has('keyward_db_pool_connections{state="total"}')).toBe(false);
  });

  it("never shows a key, a token or a client-chosen name, even after they were used", async () => {
    const key = await makeKey();
    await graphql(key);
    await app.fetch(`/v1/authorize/${key}?scopes=${key}`, { headers: { "x-api-key": key } });
    await app.fetch(`/${key}`);
    const { text } = await scrape();
    for (const secret of [key, key.slice(0, 24), ownerToken, TOKEN, "Check"]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/sk_live_|kws_/);
  });
});
