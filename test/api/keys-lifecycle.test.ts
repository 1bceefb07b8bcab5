import { createHash } from "node:crypto";
import { createClient, type KeywardClient, type KeywardError } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, TEST_IP, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// A key's whole life through the SDK: a moderator creates it, sees its value once,
// lists, uses, rolls (with and without grace), revokes it; the workspace switch;
// publishable keys; listing filters and pages; updates; the audit trail. Every
// response body the server sends is kept, so the last test can prove that a key's
// value left the server exactly once, and never reached a log or the database.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** Every response body (and header block) since the app started, in order. */
const responses: Promise<string>[] = [];
/** Every key value the server handed out, with the one response allowed to hold it. */
const issued: { secret: string; response: number }[] = [];

function client(token?: string, headers?: Record<string, string>): KeywardClient {
  return createClient({
    url: "http://keyward.test/graphql",
    token,
    headers,
    fetch: (input, init) => app.serve(input, init, { ip: TEST_IP }),
    onResponse: (response) => {
      const head = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
      responses.push(
        response
          .clone()
          .text()
          .then((body) => `${head}\n\n${body}`),
      );
    },
  });
}

/** Remembers a secret just returned, and which response carried it. */
function issuedNow(secret: string): string {
  issued.push({ secret, response: responses.length - 1 });
  return secret;
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

const SECRET_LIVE = /^sk_live_[A-Za-z0-9_-]{32}[0-9A-Za-z]{6}$/;

type Person = { id: string; email: string; token: string; client: KeywardClient };

async function person(name: string): Promise<Person> {
  const signed = await signUpUser(app, name);
  return { id: signed.user.id, email: signed.email, token: signed.token, client: client(signed.token) };
}

let slugCounter = 0;
const freshSlug = (prefix: string) => `${prefix}-${process.pid}-${++slugCounter}`;

let owner: Person;
let moderator: Person;
let ws: { id: string; slug: string };

beforeAll(async () => {
  owner = await person("owner");
  moderator = await person("moderator");
  ws = (await owner.client.createWorkspace({ input: { name: "Lifecycle", slug: freshSlug("lifecycle") } }))
    .createWorkspace;
  const { addMember } = await owner.client.addMember({
    input: { workspaceId: ws.id, email: moderator.email, role: "MODERATOR" },
  });
  expect(addMember.role).toBe("MODERATOR");
});

const isoIn = (ms: number) => new Date(app.clock.now.getTime() + ms).toISOString();

describe("a secret key from creation to revocation", () => {
  const settings = {
    name: "billing backend",
    scopes: ["keys:read", "keys:write"],
    allowedIps: ["203.0.113.0/24"],
    metadata: { team: "billing", tier: 3, nested: { tags: ["a", "b"] } },
    rateLimit: { limit: 250, windowSeconds: 60 },
  };
  let expiresAt: string;
  let first: { id: string; secret: string; start: string };
  let second: { id: string; secret: string };
  let third: { id: string; secret: string };

  it("a moderator creates a LIVE secret key and sees its value once, in the documented format", async () => {
    expiresAt = isoIn(30 * 24 * 3600_000);
    const { createApiKey } = await moderator.client.createApiKey({
      input: { workspaceId: ws.id, type: "SECRET", environment: "LIVE", expiresAt, ...settings },
    });
    const secret = issuedNow(createApiKey.secret);
    expect(secret).toMatch(SECRET_LIVE);
    expect(createApiKey.apiKey).toMatchObject({
      name: settings.name,
      type: "SECRET",
      environment: "LIVE",
      start: secret.slice(0, 12),
      scopes: settings.scopes,
      allowedIps: settings.allowedIps,
      allowedOrigins: [],
      status: "ACTIVE",
      expiresAt,
      revokedAt: null,
      graceUntil: null,
      lastUsedAt: null,
      metadata: settings.metadata,
      rateLimit: settings.rateLimit,
      rolledFromId: null,
    });
    first = { id: createApiKey.apiKey.id, secret, start: createApiKey.apiKey.start };
  });

  it("the database holds only the key's SHA-256, and no column holds the key itself", async () => {
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: first.id } });
    expect(row.hash).toBe(sha256(first.secret));
    expect(row.start).toBe(first.secret.slice(0, 12));
    const [raw] = await app.db.$queryRaw<{ row: string }[]>`
      SELECT row_to_json(k)::text AS row FROM api_keys k WHERE id = ${first.id}::uuid`;
    expect(raw?.row).toContain(sha256(first.secret));
    expect(raw?.row).not.toContain(first.secret);
    // Not even the random part on its own.
    expect(raw?.row).not.toContain(first.secret.slice(8, 40));
  });

  it("lists it: LIVE, ACTIVE, created by the moderator, with a total count", async () => {
    const { apiKeys } = await moderator.client.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(apiKeys.totalCount).toBe(1);
    expect(apiKeys.edges).toHaveLength(1);
    expect(apiKeys.edges[0]?.node).toMatchObject({
      id: first.id,
      environment: "LIVE",
      status: "ACTIVE",
      start: first.start,
      createdBy: { id: moderator.id, email: moderator.email },
      workspace: { id: ws.id, slug: ws.slug },
    });
    expect(JSON.stringify(apiKeys)).not.toContain(first.secret);
  });

  it("works as a Bearer token", async () => {
    const { apiKeys } = await client(first.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(apiKeys.edges.map((edge) => edge.node.id)).toEqual([first.id]);
  });

  it("rolls with a one-hour grace: the successor copies every setting and the old key is ROLLING", async () => {
    const rolledAt = app.clock.now.getTime();
    const { rollApiKey } = await moderator.client.rollApiKey({ input: { id: first.id, gracePeriodSeconds: 3600 } });
    const secret = issuedNow(rollApiKey.secret);
    expect(secret).toMatch(SECRET_LIVE);
    expect(secret).not.toBe(first.secret);
    expect(rollApiKey.apiKey.id).not.toBe(first.id);
    expect(rollApiKey.apiKey).toMatchObject({
      name: settings.name,
      type: "SECRET",
      environment: "LIVE",
      start: secret.slice(0, 12),
      scopes: settings.scopes,
      allowedIps: settings.allowedIps,
      expiresAt,
      metadata: settings.metadata,
      rateLimit: settings.rateLimit,
      status: "ACTIVE",
      graceUntil: null,
      rolledFromId: first.id,
    });
    second = { id: rollApiKey.apiKey.id, secret };

    const { apiKey: old } = await moderator.client.apiKey({ id: first.id });
    expect(old.status).toBe("ROLLING");
    expect(old.graceUntil).toBe(new Date(rolledAt + 3600_000).toISOString());
    expect(old.revokedAt).toBeNull();
    const { apiKeys } = await moderator.client.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(apiKeys.totalCount).toBe(2);
    const successor = apiKeys.edges.find((edge) => edge.node.id === second.id)?.node;
    expect(successor?.createdBy).toEqual({ id: moderator.id, email: moderator.email });
  });

  it("both keys work during the grace period", async () => {
    for (const secret of [first.secret, second.secret]) {
      const { apiKeys } = await client(secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" });
      expect(apiKeys.totalCount).toBe(2);
    }
  });

  it("after the grace period the old key is key_expired and the new one works", async () => {
    app.clock.advance(3600_000 + 1000);
    const error = await expectCode(
      client(first.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" }),
      "key_expired",
    );
    expect(error.status).toBe(401);
    const { apiKeys } = await client(second.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    const statuses = Object.fromEntries(apiKeys.edges.map((edge) => [edge.node.id, edge.node.status]));
    expect(statuses).toEqual({ [first.id]: "EXPIRED", [second.id]: "ACTIVE" });
  });

  it("a roll with grace 0 breaks the old key at once", async () => {
    const { rollApiKey } = await moderator.client.rollApiKey({ input: { id: second.id, gracePeriodSeconds: 0 } });
    third = { id: rollApiKey.apiKey.id, secret: issuedNow(rollApiKey.secret) };
    expect(rollApiKey.apiKey).toMatchObject({ rolledFromId: second.id, scopes: settings.scopes, expiresAt });
    await expectCode(client(second.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" }), "key_expired");
    const { apiKey } = await moderator.client.apiKey({ id: second.id });
    expect(apiKey.status).toBe("EXPIRED");
    expect(apiKey.graceUntil).toBe(app.clock.now.toISOString());
    const { apiKeys } = await client(third.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(apiKeys.totalCount).toBe(3);
  });

  it("revoking records the reason and time; the next request with the key is invalid_api_key", async () => {
    const { revokeApiKey } = await moderator.client.revokeApiKey({
      input: { id: third.id, reason: "laptop stolen" },
    });
    expect(revokeApiKey).toMatchObject({
      id: third.id,
      status: "REVOKED",
      revokedReason: "laptop stolen",
      revokedAt: app.clock.now.toISOString(),
    });
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: third.id } });
    expect(row.revokedAt?.toISOString()).toBe(app.clock.now.toISOString());
    expect(row.revokedReason).toBe("laptop stolen");
    const error = await expectCode(
      client(third.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" }),
      "invalid_api_key",
    );
    expect(error.status).toBe(401);
    // Later still, it stays revoked (not merely expired).
    app.clock.advance(10 * 24 * 3600_000);
    await expectCode(client(third.secret).me(), "invalid_api_key");
    expect((await moderator.client.apiKey({ id: third.id })).apiKey.status).toBe("REVOKED");
  });
});

describe("publishable keys", () => {
  let pk: { id: string; secret: string };

  it("a publishable key with keys:read works from its allowed Origin", async () => {
    const { createApiKey } = await moderator.client.createApiKey({
      input: {
        workspaceId: ws.id,
        name: "dashboard widget",
        type: "PUBLISHABLE",
        environment: "LIVE",
        scopes: ["keys:read"],
        allowedOrigins: ["https://app.example.com"],
      },
    });
    pk = { id: createApiKey.apiKey.id, secret: issuedNow(createApiKey.secret) };
    expect(pk.secret).toMatch(/^pk_live_[A-Za-z0-9_-]{32}[0-9A-Za-z]{6}$/);
    expect(createApiKey.apiKey).toMatchObject({
      type: "PUBLISHABLE",
      allowedOrigins: ["https://app.example.com"],
      rateLimit: { limit: 100, windowSeconds: 3600 },
    });
    const { apiKeys } = await client(pk.secret, { origin: "https://app.example.com" }).apiKeys({
      workspaceId: ws.id,
      environment: "LIVE",
    });
    expect(apiKeys.edges.map((edge) => edge.node.id)).toContain(pk.id);
  });

  it("is refused from another Origin, without an Origin, and for writes", async () => {
    await expectCode(
      client(pk.secret, { origin: "https://evil.example.com" }).apiKeys({ workspaceId: ws.id, environment: "LIVE" }),
      "origin_not_allowed",
    );
    await expectCode(client(pk.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" }), "origin_not_allowed");
    await expectCode(
      client(pk.secret, { origin: "https://app.example.com" }).revokeApiKey({ input: { id: pk.id } }),
      "publishable_key_write",
    );
    expect((await app.db.apiKey.findUniqueOrThrow({ where: { id: pk.id } })).revokedAt).toBeNull();
  });
});

describe("the workspace key switch", () => {
  let live: string;
  let test: string;
  let pk: string;
  let elsewhere: string;
  let other: { id: string };

  beforeAll(async () => {
    const make = async (environment: "LIVE" | "TEST") =>
      issuedNow(
        (
          await moderator.client.createApiKey({
            input: {
              workspaceId: ws.id,
              name: `switch ${environment}`,
              type: "SECRET",
              environment,
              scopes: ["keys:read"],
            },
          })
        ).createApiKey.secret,
      );
    live = await make("LIVE");
    test = await make("TEST");
    pk = issuedNow(
      (
        await moderator.client.createApiKey({
          input: {
            workspaceId: ws.id,
            name: "switch widget",
            type: "PUBLISHABLE",
            environment: "LIVE",
            scopes: ["keys:read"],
            allowedOrigins: ["https://app.example.com"],
          },
        })
      ).createApiKey.secret,
    );
    other = (await owner.client.createWorkspace({ input: { name: "Other", slug: freshSlug("other") } }))
      .createWorkspace;
    elsewhere = issuedNow(
      (
        await owner.client.createApiKey({
          input: { workspaceId: other.id, name: "other", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
        })
      ).createApiKey.secret,
    );
  });

  // Functions, so each request starts when it is awaited: started together, a refusal
  // could land before anything awaits it (an unhandled rejection).
  const uses = () => [
    () => client(live).apiKeys({ workspaceId: ws.id, environment: "LIVE" }),
    () => client(test).apiKeys({ workspaceId: ws.id, environment: "TEST" }),
    () => client(pk, { origin: "https://app.example.com" }).apiKeys({ workspaceId: ws.id, environment: "LIVE" }),
  ];

  it("off: every key of the workspace fails keys_disabled; sessions and other workspaces still work", async () => {
    const { setKeysEnabled } = await moderator.client.setKeysEnabled({
      input: { workspaceId: ws.id, enabled: false },
    });
    expect(setKeysEnabled).toEqual({ id: ws.id, keysEnabled: false });
    for (const use of uses()) {
      const error = await expectCode(use(), "keys_disabled");
      expect(error.status).toBe(403);
    }
    await expectCode(client(live).me(), "keys_disabled");
    const { apiKeys } = await owner.client.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(apiKeys.totalCount).toBeGreaterThan(0);
    expect((await owner.client.workspace({ id: ws.id })).workspace?.keysEnabled).toBe(false);
    const { apiKeys: theirs } = await client(elsewhere).apiKeys({ workspaceId: other.id, environment: "LIVE" });
    expect(theirs.totalCount).toBe(1);
  });

  it("on again: the same keys work", async () => {
    const { setKeysEnabled } = await moderator.client.setKeysEnabled({
      input: { workspaceId: ws.id, enabled: true },
    });
    expect(setKeysEnabled.keysEnabled).toBe(true);
    for (const use of uses()) {
      const { apiKeys } = await use();
      expect(apiKeys.totalCount).toBeGreaterThan(0);
    }
  });
});

describe("listing", () => {
  let lws: { id: string };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    lws = (await owner.client.createWorkspace({ input: { name: "Listing", slug: freshSlug("listing") } }))
      .createWorkspace;
    await owner.client.addMember({ input: { workspaceId: lws.id, email: moderator.email, role: "MODERATOR" } });
    const make = async (
      label: string,
      extra: { type?: "SECRET" | "PUBLISHABLE"; environment?: "LIVE" | "TEST"; expiresAt?: string } = {},
    ) => {
      const type = extra.type ?? "SECRET";
      const { createApiKey } = await moderator.client.createApiKey({
        input: {
          workspaceId: lws.id,
          name: label,
          type,
          environment: extra.environment ?? "LIVE",
          scopes: ["keys:read"],
          allowedOrigins: type === "PUBLISHABLE" ? ["https://app.example.com"] : undefined,
          expiresAt: extra.expiresAt,
        },
      });
      issuedNow(createApiKey.secret);
      ids[label] = createApiKey.apiKey.id;
      return createApiKey.apiKey.id;
    };
    const roll = async (label: string, id: string, gracePeriodSeconds: number) => {
      const { rollApiKey } = await moderator.client.rollApiKey({ input: { id, gracePeriodSeconds } });
      issuedNow(rollApiKey.secret);
      ids[label] = rollApiKey.apiKey.id;
    };
    await make("active");
    await make("publishable", { type: "PUBLISHABLE" });
    await roll("rolling-successor", await make("rolling"), 3600);
    await roll("regenerated-successor", await make("regenerated"), 0);
    await moderator.client.revokeApiKey({ input: { id: await make("revoked"), reason: "test" } });
    await make("expiring", { expiresAt: isoIn(60_000) });
    await make("test-1", { environment: "TEST" });
    await make("test-2", { environment: "TEST", type: "PUBLISHABLE" });
    app.clock.advance(120_000);
  });

  const LIVE = [
    "active",
    "publishable",
    "rolling",
    "rolling-successor",
    "regenerated",
    "regenerated-successor",
    "revoked",
    "expiring",
  ];
  const idsOf = (labels: string[]) => labels.map((label) => ids[label]).sort();
  const list = (variables: Partial<Parameters<KeywardClient["apiKeys"]>[0]> = {}) =>
    owner.client.apiKeys({ workspaceId: lws.id, environment: "LIVE", first: 100, ...variables });
  const listedIds = async (variables: Partial<Parameters<KeywardClient["apiKeys"]>[0]> = {}) => {
    const { apiKeys } = await list(variables);
    expect(apiKeys.totalCount).toBe(apiKeys.edges.length);
    return apiKeys.edges.map((edge) => edge.node.id).sort();
  };

  it("filters by status", async () => {
    expect(await listedIds({ status: "ACTIVE" })).toEqual(
      idsOf(["active", "publishable", "rolling-successor", "regenerated-successor"]),
    );
    expect(await listedIds({ status: "ROLLING" })).toEqual(idsOf(["rolling"]));
    expect(await listedIds({ status: "EXPIRED" })).toEqual(idsOf(["regenerated", "expiring"]));
    expect(await listedIds({ status: "REVOKED" })).toEqual(idsOf(["revoked"]));
    const { apiKeys } = await list();
    for (const { node } of apiKeys.edges) {
      const status = (await list({ status: node.status })).apiKeys.edges.map((edge) => edge.node.id);
      expect(status).toContain(node.id);
    }
  });

  it("filters by type, and by type and status together", async () => {
    expect(await listedIds({ type: "PUBLISHABLE" })).toEqual(idsOf(["publishable"]));
    expect(await listedIds({ type: "SECRET" })).toEqual(idsOf(LIVE.filter((label) => label !== "publishable")));
    expect(await listedIds({ type: "SECRET", status: "ACTIVE" })).toEqual(
      idsOf(["active", "rolling-successor", "regenerated-successor"]),
    );
    expect(await listedIds({ type: "PUBLISHABLE", status: "REVOKED" })).toEqual([]);
  });

  it("keeps environments apart", async () => {
    expect(await listedIds()).toEqual(idsOf(LIVE));
    expect(await listedIds({ environment: "TEST" })).toEqual(idsOf(["test-1", "test-2"]));
    expect(await listedIds({ environment: "TEST", type: "PUBLISHABLE" })).toEqual(idsOf(["test-2"]));
    // A TEST key sees neither the LIVE list nor a LIVE key by id.
    const { createApiKey } = await moderator.client.createApiKey({
      input: { workspaceId: lws.id, name: "test reader", type: "SECRET", environment: "TEST", scopes: ["keys:read"] },
    });
    const testKey = client(issuedNow(createApiKey.secret));
    ids["test-reader"] = createApiKey.apiKey.id;
    await expectCode(testKey.apiKeys({ workspaceId: lws.id, environment: "LIVE" }), "insufficient_scope");
    await expectCode(testKey.apiKey({ id: ids.active ?? "" }), "not_found");
    const { apiKeys } = await testKey.apiKeys({ workspaceId: lws.id, environment: "TEST" });
    expect(apiKeys.edges.map((edge) => edge.node.id).sort()).toEqual(idsOf(["test-1", "test-2", "test-reader"]));
    expect(await listedIds()).toEqual(idsOf(LIVE));
  });

  async function walk(pageSize: number, variables: Partial<Parameters<KeywardClient["apiKeys"]>[0]> = {}) {
    const seen: { id: string; createdAt: string }[] = [];
    let after: string | undefined;
    for (let page = 0; page < 50; page++) {
      const { apiKeys } = await list({ ...variables, first: pageSize, after });
      expect(apiKeys.edges.length).toBeLessThanOrEqual(pageSize);
      seen.push(...apiKeys.edges.map((edge) => ({ id: edge.node.id, createdAt: edge.node.createdAt })));
      if (!apiKeys.pageInfo.hasNextPage) {
        expect(seen).toHaveLength(apiKeys.totalCount);
        return seen;
      }
      expect(apiKeys.edges).toHaveLength(pageSize);
      after = apiKeys.pageInfo.endCursor ?? undefined;
      expect(after).toBeTruthy();
    }
    throw new Error("pagination did not end");
  }

  const newestFirst = (seen: { id: string; createdAt: string }[]) =>
    [...seen].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));

  it("pages with first/after through every key exactly once, newest first", async () => {
    for (const size of [1, 3, 8]) {
      const seen = await walk(size);
      expect(seen.map((key) => key.id).sort()).toEqual(idsOf(LIVE));
      expect(new Set(seen.map((key) => key.id)).size).toBe(seen.length);
      expect(seen).toEqual(newestFirst(seen));
    }
    const active = await walk(1, { status: "ACTIVE" });
    expect(active.map((key) => key.id).sort()).toEqual(
      idsOf(["active", "publishable", "rolling-successor", "regenerated-successor"]),
    );
  });

  it("keys created in the same millisecond are neither skipped nor repeated", async () => {
    await app.db.apiKey.updateMany({
      where: { workspaceId: lws.id, environment: "LIVE" },
      data: { createdAt: new Date("2030-01-01T00:00:00.000Z") },
    });
    for (const size of [1, 2, 3]) {
      const seen = await walk(size);
      expect(seen.map((key) => key.id).sort()).toEqual(idsOf(LIVE));
      expect(new Set(seen.map((key) => key.id)).size).toBe(LIVE.length);
    }
  });

  it("a malformed after cursor is validation_failed, naming the field", async () => {
    const b64 = (text: string) => Buffer.from(text).toString("base64url");
    const cursors = [
      "garbage",
      "",
      b64("yesterday|00000000-0000-0000-0000-000000000000"),
      b64("2030-01-01T00:00:00.000Z|not-an-id"),
      // The shape of an id, but not one: must not reach the uuid column.
      b64(`2030-01-01T00:00:00.000Z|${"-".repeat(36)}`),
      b64(`2030-01-01T00:00:00.000Z|${"0".repeat(36)}`),
    ];
    const outcomes = await Promise.all(
      cursors.map((after) =>
        list({ after }).then(
          () => ({ after, code: "accepted" }),
          (error: KeywardError) => ({ after, code: error.code, field: error.field, status: error.status }),
        ),
      ),
    );
    expect(outcomes).toEqual(
      cursors.map((after) => ({ after, code: "validation_failed", field: "after", status: 400 })),
    );
  });
});

describe("updateApiKey", () => {
  let key: { id: string };

  beforeAll(async () => {
    const { createApiKey } = await moderator.client.createApiKey({
      input: {
        workspaceId: ws.id,
        name: "to update",
        type: "SECRET",
        environment: "LIVE",
        scopes: ["keys:read", "keys:write"],
        allowedIps: ["198.51.100.0/24"],
        metadata: { v: 1 },
      },
    });
    issuedNow(createApiKey.secret);
    key = { id: createApiKey.apiKey.id };
  });

  it("changes name, scopes, metadata and rate limit, and nothing else", async () => {
    const before = (await moderator.client.apiKey({ id: key.id })).apiKey;
    const { updateApiKey } = await moderator.client.updateApiKey({
      input: {
        id: key.id,
        name: "renamed",
        scopes: ["keys:read"],
        metadata: { v: 2, owner: "ops" },
        rateLimit: { limit: 42, windowSeconds: 10 },
      },
    });
    const expected = {
      ...before,
      name: "renamed",
      scopes: ["keys:read"],
      metadata: { v: 2, owner: "ops" },
      rateLimit: { limit: 42, windowSeconds: 10 },
    };
    expect(updateApiKey).toEqual(expected);
    expect((await moderator.client.apiKey({ id: key.id })).apiKey).toEqual(expected);
    const event = await app.db.auditEvent.findFirstOrThrow({
      where: { targetId: key.id, action: "api_key.update" },
      orderBy: { seq: "desc" },
    });
    expect(event).toMatchObject({ actorType: "user", actorId: moderator.id, workspaceId: ws.id });
    expect((event.data as { changed: string[] }).changed.sort()).toEqual(["metadata", "name", "rateLimit", "scopes"]);
  });

  it("refuses a revoked key and changes nothing", async () => {
    await moderator.client.revokeApiKey({ input: { id: key.id, reason: "done" } });
    const before = await app.db.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    const events = await app.db.auditEvent.count();
    const error = await expectCode(
      moderator.client.updateApiKey({ input: { id: key.id, name: "revived" } }),
      "validation_failed",
    );
    expect(error.field).toBe("id");
    expect(await app.db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).toEqual(before);
    expect(await app.db.auditEvent.count()).toBe(events);
  });
});

describe("the audit trail", () => {
  it("records every change to the workspace's keys, by whom", async () => {
    const events = await app.db.auditEvent.findMany({ where: { workspaceId: ws.id }, orderBy: { seq: "asc" } });
    const keys = await app.db.apiKey.findMany({ where: { workspaceId: ws.id } });
    const of = (action: string) => events.filter((event) => event.action === action);
    const targets = (action: string) =>
      of(action)
        .map((event) => event.targetId)
        .sort();
    expect(targets("api_key.create")).toEqual(
      keys
        .filter((k) => !k.rolledFromId)
        .map((k) => k.id)
        .sort(),
    );
    expect(targets("api_key.roll")).toEqual(
      keys
        .filter((k) => k.rolledFromId)
        .map((k) => k.rolledFromId)
        .sort(),
    );
    for (const event of of("api_key.roll")) {
      const successor = keys.find((k) => k.rolledFromId === event.targetId);
      expect(event.data).toMatchObject({ newKeyId: successor?.id });
    }
    expect(targets("api_key.revoke")).toEqual(
      keys
        .filter((k) => k.revokedAt)
        .map((k) => k.id)
        .sort(),
    );
    expect(of("api_key.revoke").map((event) => (event.data as { reason: string }).reason)).toContain("laptop stolen");
    expect(of("api_key.update")).toHaveLength(1);
    expect(of("workspace.keys_disable")).toHaveLength(1);
    expect(of("workspace.keys_enable")).toHaveLength(1);
    for (const event of events.filter(
      (e) => e.action.startsWith("api_key.") || e.action.startsWith("workspace.keys"),
    )) {
      expect(event).toMatchObject({ actorType: "user", actorId: moderator.id, ip: TEST_IP });
    }
    // The owner reads the same trail through the API.
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id, first: 100 });
    expect(auditEvents.totalCount).toBe(events.length);
    expect(auditEvents.edges.map((edge) => edge.node.id).sort()).toEqual(events.map((event) => event.id).sort());
  });

  it("no audit event holds a key's value or its hash", async () => {
    const all = JSON.stringify(
      await app.db.$queryRaw<{ row: string }[]>`SELECT row_to_json(e)::text AS row FROM audit_events e`,
    );
    expect(issued.length).toBeGreaterThan(10);
    for (const { secret } of issued) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(8, 40));
      expect(all).not.toContain(sha256(secret));
    }
  });
});

describe("a key's value leaves the server once", () => {
  it("only the response that created a key carries its value; no later response, log or table does", async () => {
    const bodies = await Promise.all(responses);
    expect(bodies.length).toBeGreaterThan(50);
    for (const { secret, response } of issued) {
      const carriers = bodies.flatMap((body, index) => (body.includes(secret) ? [index] : []));
      expect(carriers).toEqual([response]);
      for (const body of bodies) expect(body).not.toContain(sha256(secret));
    }
    const logs = app.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const { secret } of issued) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice(8, 40));
      expect(logs).not.toContain(sha256(secret));
    }
    const tables = await app.db.$queryRaw<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`;
    expect(tables.map((table) => table.name)).toContain("api_keys");
    let everything = "";
    for (const { name } of tables) {
      const rows = await app.db.$queryRawUnsafe<{ row: string }[]>(
        `SELECT row_to_json(t)::text AS row FROM "${name}" t`,
      );
      everything += rows.map((row) => row.row).join("\n");
    }
    for (const { secret } of issued) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.slice(8, 40));
    }
  });
});
