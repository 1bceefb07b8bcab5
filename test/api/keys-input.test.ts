import { crc32 } from "node:zlib";
import type { CreateApiKeyInput, KeywardClient, UpdateApiKeyInput } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Bad input is refused with the right code and field, and refused input writes
// nothing: no key row changes or appears, no audit event, no idempotency record.
// Then every wrong shape of key sent as a Bearer token, with its exact code.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

type Person = Awaited<ReturnType<typeof signUpUser>>;
let owner: Person;
let moderator: Person;
let ws: { id: string };
/** An ACTIVE secret key with keys:read and keys:write, for update cases. */
let target: { id: string; secret: string };

let slugCounter = 0;
const freshSlug = (prefix: string) => `${prefix}-${process.pid}-${++slugCounter}`;

beforeAll(async () => {
  owner = await signUpUser(app, "owner");
  moderator = await signUpUser(app, "moderator");
  ws = (await owner.client.createWorkspace({ input: { name: "Input", slug: freshSlug("input") } })).createWorkspace;
  await owner.client.addMember({ input: { workspaceId: ws.id, email: moderator.email, role: "MODERATOR" } });
  const { createApiKey } = await moderator.client.createApiKey({
    input: {
      workspaceId: ws.id,
      name: "target",
      type: "SECRET",
      environment: "LIVE",
      scopes: ["keys:read", "keys:write"],
      metadata: { stays: true },
    },
  });
  target = { id: createApiKey.apiKey.id, secret: createApiKey.secret };
});

/** Everything a refused request might have written. */
async function snapshot() {
  const keys = await app.db.$queryRaw<{ row: string }[]>`
    SELECT row_to_json(k)::text AS row FROM api_keys k ORDER BY id`;
  return {
    keys: keys.map((k) => k.row),
    audit: await app.db.auditEvent.count(),
    idempotency: await app.db.idempotencyRecord.count(),
  };
}

/** The call fails with `code` on `field` and leaves the database exactly as it was. */
async function refused(call: () => Promise<unknown>, code: string, field: string | undefined) {
  const before = await snapshot();
  const error = await expectCode(call(), code);
  expect({ code: error.code, field: error.field }).toEqual({ code, field });
  expect(error.docUrl).toMatch(new RegExp(`/docs/errors#${code}$`));
  expect(await snapshot()).toEqual(before);
  return error;
}

const base = (): CreateApiKeyInput => ({
  workspaceId: ws.id,
  name: "input test",
  type: "SECRET",
  environment: "LIVE",
  scopes: ["keys:read"],
});

const publishable = (): CreateApiKeyInput => ({
  ...base(),
  type: "PUBLISHABLE",
  allowedOrigins: ["https://app.example.com"],
});

describe("createApiKey refuses bad input and writes nothing", () => {
  const pastIso = () => new Date(app.clock.now.getTime() - 1000).toISOString();
  const cases: [string, () => CreateApiKeyInput, string, string, ("moderator" | "owner")?][] = [
    [
      "unknown scope keys:destroy",
      () => ({ ...base(), scopes: ["keys:read", "keys:destroy"] }),
      "validation_failed",
      "scopes",
    ],
    [
      "a scope above the moderator's (members:write)",
      () => ({ ...base(), scopes: ["members:write"] }),
      "insufficient_permissions",
      "scopes",
    ],
    ["* from a moderator", () => ({ ...base(), scopes: ["*"] }), "insufficient_permissions", "scopes"],
    [
      "* from an owner who is not a platform admin",
      () => ({ ...base(), scopes: ["*"] }),
      "insufficient_permissions",
      "scopes",
      "owner",
    ],
    [
      "a publishable key with keys:write",
      () => ({ ...publishable(), scopes: ["keys:read", "keys:write"] }),
      "validation_failed",
      "scopes",
    ],
    [
      "a publishable key with no origin (omitted)",
      () => ({ ...publishable(), allowedOrigins: undefined }),
      "validation_failed",
      "allowedOrigins",
    ],
    [
      "a publishable key with no origin (empty)",
      () => ({ ...publishable(), allowedOrigins: [] }),
      "validation_failed",
      "allowedOrigins",
    ],
    [
      "origin notanorigin",
      () => ({ ...publishable(), allowedOrigins: ["notanorigin"] }),
      "validation_failed",
      "allowedOrigins",
    ],
    [
      "origin with a path",
      () => ({ ...publishable(), allowedOrigins: ["https://x.com/path"] }),
      "validation_failed",
      "allowedOrigins",
    ],
    [
      "a wildcard on a public suffix (*.co.uk)",
      () => ({ ...publishable(), allowedOrigins: ["https://*.co.uk"] }),
      "validation_failed",
      "allowedOrigins",
    ],
    ["CIDR 10.0.0.0/33", () => ({ ...base(), allowedIps: ["10.0.0.0/33"] }), "validation_failed", "allowedIps"],
    ["address 999.1.1.1", () => ({ ...base(), allowedIps: ["999.1.1.1"] }), "validation_failed", "allowedIps"],
    ["expiry in the past", () => ({ ...base(), expiresAt: pastIso() }), "validation_failed", "expiresAt"],
    [
      "expiry exactly now",
      () => ({ ...base(), expiresAt: app.clock.now.toISOString() }),
      "validation_failed",
      "expiresAt",
    ],
    ["a 10 KB name", () => ({ ...base(), name: "n".repeat(10 * 1024) }), "validation_failed", "name"],
    ["a name with a NUL byte", () => ({ ...base(), name: "bad\u0000name" }), "validation_failed", "name"],
    ["a name that is only spaces", () => ({ ...base(), name: "   " }), "validation_failed", "name"],
    [
      "a name with a lone surrogate (SDK, escaped by JSON.stringify)",
      () => ({ ...base(), name: "bad\ud800name" }),
      "validation_failed",
      "name",
    ],
    [
      "metadata with NUL in a value",
      () => ({ ...base(), metadata: { note: "a\u0000b" } }),
      "validation_failed",
      "metadata",
    ],
    ["metadata with NUL in a key", () => ({ ...base(), metadata: { "a\u0000b": 1 } }), "validation_failed", "metadata"],
    [
      "metadata over 4096 bytes",
      () => ({ ...base(), metadata: { blob: "x".repeat(4097) } }),
      "validation_failed",
      "metadata",
    ],
    ["metadata that is an array", () => ({ ...base(), metadata: ["a", "b"] }), "validation_failed", "metadata"],
    ["metadata that is a string", () => ({ ...base(), metadata: "text" }), "validation_failed", "metadata"],
    [
      "rateLimit limit 0",
      () => ({ ...base(), rateLimit: { limit: 0, windowSeconds: 60 } }),
      "validation_failed",
      "rateLimit.limit",
    ],
    [
      "rateLimit window 0",
      () => ({ ...base(), rateLimit: { limit: 10, windowSeconds: 0 } }),
      "validation_failed",
      "rateLimit.windowSeconds",
    ],
  ];

  it.each(cases)("%s", async (_label, input, code, field, who = "moderator") => {
    const caller = who === "owner" ? owner.client : moderator.client;
    await refused(() => caller.createApiKey({ input: input() }), code, field);
  });

  it("metadata of exactly 4096 bytes is accepted (the limit is inclusive)", async () => {
    const skeleton = JSON.stringify({ blob: "" });
    const metadata = { blob: "x".repeat(4096 - skeleton.length) };
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBe(4096);
    const { createApiKey } = await moderator.client.createApiKey({ input: { ...base(), metadata } });
    expect(createApiKey.apiKey.metadata).toEqual(metadata);
  });
});

describe("a lone surrogate sent as raw JSON is refused", () => {
  const query = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }";
  const post = (body: string | Uint8Array<ArrayBuffer>) =>
    app.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${moderator.token}` },
      body,
    });
  const template = () => JSON.stringify({ query, variables: { input: { ...base(), name: "NAME" } } });

  async function refusedRaw(body: string | Uint8Array<ArrayBuffer>, field: string | undefined) {
    const before = await snapshot();
    const response = await post(body);
    const json = (await response.json()) as {
      data?: unknown;
      errors?: { extensions?: { code?: string; field?: string } }[];
    };
    expect(json.errors?.[0]?.extensions?.code, JSON.stringify(json)).toBe("validation_failed");
    if (field) expect(json.errors?.[0]?.extensions?.field).toBe(field);
    expect(response.status).toBe(400);
    expect(await snapshot()).toEqual(before);
  }

  it.each([
    ["high surrogate \\ud800", "bad\\ud800name"],
    ["upper-case escape \\uD800", "bad\\uD800name"],
    ["low surrogate \\udc00", "bad\\udc00name"],
    ["reversed pair \\udc00\\ud800", "bad\\udc00\\ud800name"],
  ])("as a JSON escape: %s", async (_label, escaped) => {
    await refusedRaw(template().replace("NAME", escaped), "name");
  });

  it("as the raw bytes of a surrogate (ED A0 80, not UTF-8)", async () => {
    const [head, tail] = template().split("NAME") as [string, string];
    const body = Buffer.concat([
      Buffer.from(`${head}bad`),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from(`name${tail}`),
    ]);
    // Not silently rewritten to U+FFFD and stored: the request is refused.
    await refusedRaw(Uint8Array.from(body), undefined);
  });

  it("a well-formed pair is fine", async () => {
    const response = await post(template().replace("NAME", "key \\ud83d\\udd11"));
    const json = (await response.json()) as { data?: { createApiKey?: { apiKey: { id: string } } } };
    const id = json.data?.createApiKey?.apiKey.id ?? "";
    expect((await app.db.apiKey.findUniqueOrThrow({ where: { id } })).name).toBe("key \u{1F511}");
  });
});

describe("updateApiKey refuses bad input and changes nothing", () => {
  const cases: [string, () => Omit<UpdateApiKeyInput, "id">, string, string][] = [
    ["unknown scope", () => ({ scopes: ["keys:destroy"] }), "validation_failed", "scopes"],
    [
      "a scope above the moderator's",
      () => ({ scopes: ["keys:read", "audit:read"] }),
      "insufficient_permissions",
      "scopes",
    ],
    ["*", () => ({ scopes: ["*"] }), "insufficient_permissions", "scopes"],
    [
      "origins on a secret key",
      () => ({ allowedOrigins: ["https://app.example.com"] }),
      "validation_failed",
      "allowedOrigins",
    ],
    ["malformed CIDR", () => ({ allowedIps: ["10.0.0.0/33"] }), "validation_failed", "allowedIps"],
    [
      "expiry in the past",
      () => ({ expiresAt: new Date(app.clock.now.getTime() - 1).toISOString() }),
      "validation_failed",
      "expiresAt",
    ],
    ["a 10 KB name", () => ({ name: "n".repeat(10 * 1024) }), "validation_failed", "name"],
    ["a name with NUL", () => ({ name: "a\u0000b" }), "validation_failed", "name"],
    ["metadata over 4096 bytes", () => ({ metadata: { blob: "x".repeat(5000) } }), "validation_failed", "metadata"],
    ["metadata that is an array", () => ({ metadata: [1, 2, 3] }), "validation_failed", "metadata"],
    [
      "rateLimit limit 0",
      () => ({ rateLimit: { limit: 0, windowSeconds: 60 } }),
      "validation_failed",
      "rateLimit.limit",
    ],
  ];

  it.each(cases)("%s", async (_label, changes, code, field) => {
    await refused(() => moderator.client.updateApiKey({ input: { id: target.id, ...changes() } }), code, field);
  });
});

describe("roll and revoke refuse what they cannot do, and write nothing", () => {
  const make = async (name: string) => {
    const { createApiKey } = await moderator.client.createApiKey({ input: { ...base(), name } });
    return createApiKey.apiKey.id;
  };

  it.each([-1, 604801, 10 ** 9])("gracePeriodSeconds %d", async (gracePeriodSeconds) => {
    const id = await make("grace");
    await refused(
      () => moderator.client.rollApiKey({ input: { id, gracePeriodSeconds } }),
      "validation_failed",
      "gracePeriodSeconds",
    );
  });

  it("the grace period bounds themselves, 0 and 604800, are accepted", async () => {
    for (const gracePeriodSeconds of [0, 604800]) {
      const id = await make(`grace ${gracePeriodSeconds}`);
      const { rollApiKey } = await moderator.client.rollApiKey({ input: { id, gracePeriodSeconds } });
      expect(rollApiKey.apiKey.rolledFromId).toBe(id);
    }
  });

  it("rolling a revoked key", async () => {
    const id = await make("revoked then rolled");
    await moderator.client.revokeApiKey({ input: { id } });
    await refused(
      () => moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 60 } }),
      "validation_failed",
      "id",
    );
  });

  it("rolling an already-rolled key (still in its grace period, and after it)", async () => {
    const id = await make("rolled twice");
    await moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 3600 } });
    await refused(
      () => moderator.client.rollApiKey({ input: { id, gracePeriodSeconds: 60 } }),
      "validation_failed",
      "id",
    );
    const regenerated = await make("regenerated twice");
    await moderator.client.rollApiKey({ input: { id: regenerated, gracePeriodSeconds: 0 } });
    await refused(
      () => moderator.client.rollApiKey({ input: { id: regenerated, gracePeriodSeconds: 0 } }),
      "validation_failed",
      "id",
    );
  });

  it("revoking twice", async () => {
    const id = await make("revoked twice");
    await moderator.client.revokeApiKey({ input: { id, reason: "first" } });
    await refused(() => moderator.client.revokeApiKey({ input: { id, reason: "second" } }), "validation_failed", "id");
    expect((await app.db.apiKey.findUniqueOrThrow({ where: { id } })).revokedReason).toBe("first");
  });

  it("a revoke reason with NUL, or over 500 characters", async () => {
    const id = await make("bad reason");
    await refused(
      () => moderator.client.revokeApiKey({ input: { id, reason: "a\u0000b" } }),
      "validation_failed",
      "reason",
    );
    await refused(
      () => moderator.client.revokeApiKey({ input: { id, reason: "r".repeat(501) } }),
      "validation_failed",
      "reason",
    );
  });

  it("ids that are not keys of this workspace are not_found", async () => {
    await refused(
      () => moderator.client.rollApiKey({ input: { id: "not-a-uuid", gracePeriodSeconds: 0 } }),
      "not_found",
      "id",
    );
    await refused(
      () => moderator.client.revokeApiKey({ input: { id: "00000000-0000-4000-8000-000000000000" } }),
      "not_found",
      "id",
    );
  });
});

// An independent implementation of the documented format, to craft keys that are
// well-formed but unknown, or wrong in exactly one way.
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
function checksum(body: string): string {
  let value = crc32(body);
  let out = "";
  for (let i = 0; i < 6; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}
const withChecksum = (body: string) => body + checksum(body);
const RANDOM = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";

describe("keys of every wrong shape as a Bearer token", () => {
  const call = (client: KeywardClient) => client.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
  const bearer = (token: string) => app.client(undefined, { authorization: `Bearer ${token}` });

  it("the real key's checksum is CRC32 (base62) of its prefix and random part", () => {
    expect(target.secret.slice(40)).toBe(checksum(target.secret.slice(0, 40)));
  });

  const flip = (value: string, at: number) =>
    value.slice(0, at) + (value[at] === "A" ? "B" : "A") + value.slice(at + 1);

  const cases: [string, () => KeywardClient, string][] = [
    ["unknown prefix xk_live_", () => bearer(withChecksum(`xk_live_${RANDOM}`)), "authentication_required"],
    ["unknown environment sk_prod_", () => bearer(withChecksum(`sk_prod_${RANDOM}`)), "invalid_key_format"],
    ["upper-case prefix SK_LIVE_", () => bearer(withChecksum(`SK_LIVE_${RANDOM}`)), "authentication_required"],
    ["one character short", () => bearer(target.secret.slice(0, -1)), "invalid_key_format"],
    ["one character long", () => bearer(`${target.secret}A`), "invalid_key_format"],
    [
      "random part one short, checksum valid",
      () => bearer(withChecksum(`sk_live_${RANDOM.slice(1)}`)),
      "invalid_key_format",
    ],
    [
      "bad checksum (last character changed)",
      () => bearer(flip(target.secret, target.secret.length - 1)),
      "invalid_key_format",
    ],
    ["bad checksum (a random character changed)", () => bearer(flip(target.secret, 20)), "invalid_key_format"],
    ["sk_ swapped for pk_", () => bearer(`pk_${target.secret.slice(3)}`), "invalid_key_format"],
    ["live swapped for test", () => bearer(`sk_test_${target.secret.slice(8)}`), "invalid_key_format"],
    [
      "a character outside base64url",
      () => bearer(withChecksum(`sk_live_${RANDOM.slice(0, -1)}.`)),
      "invalid_key_format",
    ],
    ["well-formed but never issued", () => bearer(withChecksum(`sk_live_${RANDOM}`)), "invalid_api_key"],
    ["empty: `Bearer `", () => app.client(undefined, { authorization: "Bearer " }), "authentication_required"],
    [
      "no scheme, just the key",
      () => app.client(undefined, { authorization: target.secret }),
      "authentication_required",
    ],
    [
      "Basic scheme",
      () => app.client(undefined, { authorization: `Basic ${target.secret}` }),
      "authentication_required",
    ],
    ["two tokens", () => bearer(`${target.secret} ${target.secret}`), "authentication_required"],
    ["10 KB", () => bearer(`sk_live_${"A".repeat(10 * 1024)}`), "authentication_required"],
  ];

  it.each(cases)("%s", async (_label, client, code) => {
    const error = await expectCode(call(client()), code);
    expect(error.status).toBe(401);
    // And on an operation that needs no workspace, the same answer.
    await expectCode(client().me(), code);
  });

  it("the real key itself works (so the cases above fail for their own reason)", async () => {
    const { apiKeys } = await call(bearer(target.secret));
    expect(apiKeys.totalCount).toBeGreaterThan(0);
    const { apiKeys: lower } = await call(app.client(undefined, { authorization: `bearer ${target.secret}` }));
    expect(lower.totalCount).toBe(apiKeys.totalCount);
  });
});
