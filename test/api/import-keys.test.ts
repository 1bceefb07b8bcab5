import { createHash, randomBytes } from "node:crypto";
import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../server/keys/format";
import { operatorCommands } from "../../server/platform/operations";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";

// import-keys as the operator command runs it (server/keys/import.ts): keys made
// by another system verify on every path, a file is all or nothing, a re-run
// changes nothing, and a made-up key costs no more than it did before.

let app: TestApp;
let owner: KeywardClient;
let ws: { id: string; slug: string };
let other: { id: string; slug: string };
let commands: ReturnType<typeof operatorCommands>;

const foreign = (prefix = "acme_") => `${prefix}${randomBytes(24).toString("hex")}`;
const sha256 = (value: string, encoding: "hex" | "base64" = "hex") =>
  createHash("sha256").update(value).digest(encoding);
const file = (...lines: object[]) => lines.map((line) => JSON.stringify(line)).join("\n");
const line = (extra: object) => ({
  prefix: "acme_",
  workspace: ws.slug,
  environment: "live",
  type: "secret",
  name: "migrated",
  scopes: ["keys:read"],
  ...extra,
});
const importText = (text: string) => commands.importKeys({ text });
const keyCount = () => app.db.apiKey.count();

async function verifyEverywhere(key: string) {
  const graphql = (await owner.verifyApiKey({ input: { key } })).verifyApiKey;
  const rest = await app.fetch("/v1/keys/verify", {
    method: "POST",
    headers: { authorization: `Bearer ${ownerToken}`, "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });
  const authorize = await app.fetch("/v1/authorize", { headers: { "x-api-key": key } });
  return {
    graphql: graphql.code,
    rest: ((await rest.json()) as { code: string }).code,
    authorize: authorize.status,
    workspace: graphql.workspaceId,
  };
}

let ownerToken: string;

beforeAll(async () => {
  app = await startTestApp({}, { countQueries: true });
  const signed = await signUpUser(app, "importer");
  owner = signed.client;
  ownerToken = signed.token;
  const slug = `imp-${process.pid}`;
  ws = { ...(await owner.createWorkspace({ input: { name: "Import", slug } })).createWorkspace, slug };
  const otherSlug = `imp-other-${process.pid}`;
  other = {
    ...(await owner.createWorkspace({ input: { name: "Other", slug: otherSlug } })).createWorkspace,
    slug: otherSlug,
  };
  await owner.createService({ input: { workspaceId: ws.id, slug: "forms", name: "Forms" } });
  commands = operatorCommands(
    app.db,
    () => {},
    (message) => app.keys.bus.invalidate(message),
  );
});

afterAll(() => app.close());

describe("imported keys verify on every path", () => {
  it("a raw foreign key, a hex hash of an sk_live_ key without our checksum, a base64 hash and a Keyward key", async () => {
    const raw = foreign();
    const stripeLike = `sk_live_${randomBytes(18).toString("base64url")}`;
    const base64 = foreign("zeta-");
    const ours = generateKey("SECRET", "TEST");
    const result = await importText(
      file(
        line({ key: raw, name: "raw", metadata: { plan: "pro" } }),
        line({ hash: sha256(stripeLike), prefix: "sk_live_", start: stripeLike.slice(0, 12), workspace: other.id }),
        line({ hash: sha256(base64, "base64"), prefix: "zeta-", scopes: ["service.forms.read"], service: "forms" }),
        line({ key: ours, prefix: "sk_test_", environment: "TEST" }),
      ),
    );
    expect(result).toMatchObject({
      ok: true,
      value: { imported: 4, skipped: 0, prefixes: ["acme_", "sk_live_", "zeta-"] },
    });
    expect(await verifyEverywhere(raw)).toEqual({ graphql: "VALID", rest: "VALID", authorize: 200, workspace: ws.id });
    expect(await verifyEverywhere(stripeLike)).toMatchObject({ graphql: "VALID", authorize: 200, workspace: other.id });
    // Shaped sk_…, it is also a credential for this API, with its own scopes and workspace.
    const asKey = await app.client(stripeLike).apiKeys({ workspaceId: other.id, environment: "LIVE" });
    expect(asKey.apiKeys.totalCount).toBe(1);
    expect(await verifyEverywhere(base64)).toMatchObject({ graphql: "VALID", rest: "VALID", authorize: 200 });
    expect(await verifyEverywhere(ours)).toMatchObject({ graphql: "VALID", rest: "VALID", authorize: 200 });
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { hash: sha256(raw) } });
    expect(row).toMatchObject({ start: raw.slice(0, 9), metadata: { plan: "pro" }, name: "raw" });
    expect(row.importedAt).not.toBeNull();
    const listed = await owner.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(JSON.stringify(listed)).not.toContain(raw.slice(9));
  });

  it("an imported key can be revoked like any other: invalid_api_key at once", async () => {
    const raw = foreign();
    expect((await importText(file(line({ key: raw })))).ok).toBe(true);
    expect((await verifyEverywhere(raw)).graphql).toBe("VALID");
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { hash: sha256(raw) } });
    await owner.revokeApiKey({ input: { id: row.id, reason: "migrated away" } });
    expect(await verifyEverywhere(raw)).toMatchObject({ graphql: "invalid_api_key", authorize: 401 });
  });

  it("the raw key is neither stored, logged nor audited: only its hash", async () => {
    const raw = foreign();
    await importText(file(line({ key: raw })));
    const rows = await app.db.$queryRawUnsafe<{ row: string }[]>(
      "SELECT row_to_json(k)::text AS row FROM api_keys k UNION ALL SELECT row_to_json(a)::text FROM audit_events a",
    );
    expect(rows.filter((r) => r.row.includes(raw.slice(5)))).toEqual([]);
    expect(app.logs.filter((l) => l.includes(raw.slice(5)))).toEqual([]);
  });
});

describe("idempotent and all or nothing", () => {
  it("re-running a file changes nothing and says so; no new audit event", async () => {
    // Metadata keys in an order jsonb does not keep: still the same settings.
    const metadata = { plan: "pro", a: 1, nested: { z: true, b: [1, 2] } };
    const text = file(line({ key: foreign(), metadata }), line({ key: foreign(), environment: "test" }));
    expect(await importText(text)).toMatchObject({ ok: true, value: { imported: 2, skipped: 0 } });
    const [keys, events] = [await keyCount(), await app.db.auditEvent.count()];
    expect(await importText(text)).toMatchObject({ ok: true, value: { imported: 0, skipped: 2 } });
    expect([await keyCount(), await app.db.auditEvent.count()]).toEqual([keys, events]);
  });

  it("the same hash with other settings is an error naming the line and field, and nothing of the file is imported", async () => {
    const existing = foreign();
    await importText(file(line({ key: existing })));
    const fresh = foreign();
    const before = await keyCount();
    const result = await importText(file(line({ key: fresh }), line({ key: existing, scopes: ["keys:write"] })));
    expect(result).toEqual({
      ok: false,
      error: {
        code: "validation_failed",
        field: "scopes",
        message:
          "line 2: scopes: a key with this hash is already stored with another scopes; change it there or drop this line",
      },
    });
    expect(await keyCount()).toBe(before);
    // Unknown, it is refused as before: not in Keyward's format.
    expect((await owner.verifyApiKey({ input: { key: fresh } })).verifyApiKey.code).toBe("invalid_key_format");
  });

  it("a hash already held by a key made here is an error, not a takeover of that key", async () => {
    const { createApiKey } = await owner.createApiKey({
      input: { workspaceId: ws.id, name: "native", type: "SECRET", environment: "LIVE" },
    });
    const result = await importText(
      file(line({ key: createApiKey.secret, prefix: "sk_live_", workspace: other.slug, scopes: [] })),
    );
    expect(result).toMatchObject({ ok: false, error: { field: "workspace" } });
    expect((await owner.verifyApiKey({ input: { key: createApiKey.secret } })).verifyApiKey.workspaceId).toBe(ws.id);
  });

  const past = new Date(Date.now() - 60_000).toISOString();
  const bad: [string, () => object, string, string][] = [
    ["an unknown scope", () => line({ key: foreign(), scopes: ["keys:own"] }), "scopes", "validation_failed"],
    ["the platform-only * scope", () => line({ key: foreign(), scopes: ["*"] }), "scopes", "validation_failed"],
    [
      "a service scope of no service",
      () => line({ key: foreign(), scopes: ["service.ghost.read"] }),
      "scopes",
      "validation_failed",
    ],
    ["an unknown environment", () => line({ key: foreign(), environment: "prod" }), "environment", "validation_failed"],
    ["an unknown type", () => line({ key: foreign(), type: "admin" }), "type", "validation_failed"],
    ["an expiry in the past", () => line({ key: foreign(), expiresAt: past }), "expiresAt", "validation_failed"],
    ["a date that is no date", () => line({ key: foreign(), expiresAt: "soon" }), "expiresAt", "validation_failed"],
    ["both hash and key", () => line({ key: foreign(), hash: sha256("x") }), "hash", "validation_failed"],
    ["a hash that is no SHA-256", () => line({ hash: "abc123" }), "hash", "validation_failed"],
    ["a key not beginning with its prefix", () => line({ key: foreign("beta_") }), "prefix", "validation_failed"],
    ["a start not beginning with the prefix", () => line({ key: foreign(), start: "x" }), "start", "validation_failed"],
    [
      "a start showing 9 characters of the key",
      () => {
        const key = foreign();
        return line({ key, start: key.slice(0, 14) });
      },
      "start",
      "validation_failed",
    ],
    ["Keyward's session prefix", () => line({ key: foreign("kws_"), prefix: "kws_" }), "prefix", "validation_failed"],
    [
      "a publishable key without origins",
      () => line({ key: foreign(), type: "publishable" }),
      "allowedOrigins",
      "validation_failed",
    ],
    ["an unknown workspace", () => line({ key: foreign(), workspace: "nowhere" }), "workspace", "not_found"],
    ["an unknown service", () => line({ key: foreign(), service: "ghost" }), "service", "not_found"],
    ["an unknown field", () => line({ key: foreign(), secret: "x" }), "", "validation_failed"],
    ["metadata that is no object", () => line({ key: foreign(), metadata: [1] }), "metadata", "validation_failed"],
  ];
  it.each(bad)("refuses %s on line 3, naming the field, and imports none of the file", async (_, make, field, code) => {
    const before = await keyCount();
    const result = await importText(`${JSON.stringify(line({ key: foreign() }))}\n\n${JSON.stringify(make())}\n`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(result.error.message).toMatch(/^line 3: /);
    if (field) expect(result.error.field).toBe(field);
    expect(await keyCount()).toBe(before);
  });

  it("refuses a line that is not JSON, and an empty file", async () => {
    expect(await importText("{nope")).toMatchObject({ ok: false, error: { message: "line 1: line: not valid JSON" } });
    expect(await importText("\n\n")).toMatchObject({ ok: false, error: { field: "file" } });
  });
});

describe("lookups: cached misses and the cost of made-up keys", () => {
  it("a key probed before its import (negatively cached) verifies right after the import", async () => {
    const ours = generateKey("SECRET", "LIVE");
    const theirs = foreign();
    expect((await owner.verifyApiKey({ input: { key: ours } })).verifyApiKey.code).toBe("not_found");
    expect((await owner.verifyApiKey({ input: { key: theirs } })).verifyApiKey.code).toBe("invalid_key_format");
    await importText(file(line({ key: ours, prefix: "sk_live_" }), line({ key: theirs })));
    expect((await owner.verifyApiKey({ input: { key: ours } })).verifyApiKey.code).toBe("VALID");
    expect((await owner.verifyApiKey({ input: { key: theirs } })).verifyApiKey.code).toBe("VALID");
  });

  it("a made-up key with no imported prefix is refused as malformed without a query", async () => {
    await owner.verifyApiKey({ input: { key: "warm-up" } });
    const { result, statements } = await app.counting(() => owner.verifyApiKey({ input: { key: foreign("nope_") } }));
    expect(result.verifyApiKey.code).toBe("invalid_key_format");
    expect(statements.filter((sql) => /api_keys|imported_key_prefixes/.test(sql))).toEqual([]);
  });

  it("a made-up key with an imported prefix costs one indexed read, then none, and still answers invalid_key_format", async () => {
    const madeUp = foreign();
    const first = await app.counting(() => owner.verifyApiKey({ input: { key: madeUp } }));
    expect(first.result.verifyApiKey.code).toBe("invalid_key_format");
    expect(first.statements.filter((sql) => /api_keys/.test(sql))).toHaveLength(1);
    const again = await app.counting(() => owner.verifyApiKey({ input: { key: madeUp } }));
    expect(again.statements.filter((sql) => /api_keys/.test(sql))).toEqual([]);
  });

  it("the import is audited per workspace and the chain stays intact", async () => {
    const events = await app.db.auditEvent.findMany({ where: { action: "api_key.import", workspaceId: other.id } });
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ imported: 1, skipped: 0, prefixes: ["acme_", "sk_live_", "zeta-"] });
    expect(await commands.verifyAudit()).toMatchObject({ ok: true, value: { ok: true } });
  });
});
