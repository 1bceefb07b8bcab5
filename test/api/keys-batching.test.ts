import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey, hashKey, keyStart } from "../../server/keys/format";
import { PASSWORD, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Work that must not grow with traffic or with the size of a page: lastUsedAt is
// written in one batch, not once per request, and a page of keys with their
// creators and workspace costs the same number of SQL statements for 10 keys as
// for 100 (DataLoader). Queries are counted through Prisma's query log.

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({}, { countQueries: true });
  // Only explicit flushes write usage here, so no timer-driven write can land
  // inside a counted window or race the "nothing written yet" assertions.
  await app.keys.usage.stop();
});

afterAll(() => app.close());

const db = () => app.db;
const counting = <T>(call: () => Promise<T>) => app.counting(call);

const client = (token?: string, headers?: Record<string, string>): KeywardClient => app.client(token, headers);

async function signUp(name: string) {
  const email = uniqueEmail(name);
  const { signUp: payload } = await client().signUp({ input: { email, password: PASSWORD, name } });
  return { id: payload.user.id, email, token: payload.token, client: client(payload.token) };
}

let slugCounter = 0;
const freshSlug = (prefix: string) => `${prefix}-${process.pid}-${++slugCounter}`;

describe("lastUsedAt is written in batches", () => {
  it("20 requests with one key write nothing until flushUsage(), which then writes one statement for 1 key", async () => {
    const owner = await signUp("usage-owner");
    const { createWorkspace: ws } = await owner.client.createWorkspace({
      input: { name: "Usage", slug: freshSlug("usage") },
    });
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId: ws.id, name: "busy", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
    });
    const keyClient = client(createApiKey.secret);
    await app.keys.usage.flush();

    const { statements } = await counting(async () => {
      for (let i = 0; i < 20; i++) {
        app.clock.now = new Date(app.clock.now.getTime() + 1000);
        const { apiKeys } = await keyClient.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
        expect(apiKeys.totalCount).toBe(1);
      }
    });
    const lastUse = app.clock.now;
    expect(statements.filter((sql) => /^\s*update\b/i.test(sql))).toEqual([]);
    expect((await db().apiKey.findUniqueOrThrow({ where: { id: createApiKey.apiKey.id } })).lastUsedAt).toBeNull();

    const flushed = await counting(() => app.keys.usage.flush());
    expect(flushed.result).toBe(1);
    expect(flushed.statements.filter((sql) => /last_used_at/i.test(sql))).toHaveLength(1);
    const row = await db().apiKey.findUniqueOrThrow({ where: { id: createApiKey.apiKey.id } });
    expect(row.lastUsedAt?.toISOString()).toBe(lastUse.toISOString());
    const { apiKey } = await owner.client.apiKey({ id: createApiKey.apiKey.id });
    expect(apiKey.lastUsedAt).toBe(lastUse.toISOString());

    // Nothing new since: the next flush has nothing to write.
    const idle = await counting(() => app.keys.usage.flush());
    expect(idle.result).toBe(0);
    expect(idle.statements).toEqual([]);
  });

  it("counts distinct keys, keeps the latest use, and ignores refused requests", async () => {
    const owner = await signUp("usage-owner2");
    const { createWorkspace: ws } = await owner.client.createWorkspace({
      input: { name: "Usage 2", slug: freshSlug("usage") },
    });
    const make = async (name: string, extra: { type?: "SECRET" | "PUBLISHABLE"; allowedOrigins?: string[] } = {}) =>
      (
        await owner.client.createApiKey({
          input: {
            workspaceId: ws.id,
            name,
            type: extra.type ?? "SECRET",
            environment: "LIVE",
            scopes: ["keys:read"],
            allowedOrigins: extra.allowedOrigins,
          },
        })
      ).createApiKey;
    const a = await make("a");
    const b = await make("b");
    const pk = await make("browser", { type: "PUBLISHABLE", allowedOrigins: ["https://app.example.com"] });
    await app.keys.usage.flush();

    const start = app.clock.now.getTime();
    for (let i = 0; i < 10; i++) {
      app.clock.now = new Date(start + i * 1000);
      await client(i % 2 === 0 ? a.secret : b.secret).apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    }
    // Refused before it is used: wrong Origin for the publishable key.
    await expectCode(
      client(pk.secret, { origin: "https://evil.example.com" }).apiKeys({ workspaceId: ws.id, environment: "LIVE" }),
      "origin_not_allowed",
    );
    expect(await app.keys.usage.flush()).toBe(2);
    const rows = await db().apiKey.findMany({ where: { workspaceId: ws.id }, orderBy: { name: "asc" } });
    const byName = Object.fromEntries(rows.map((row) => [row.name, row.lastUsedAt?.toISOString() ?? null]));
    expect(byName).toEqual({
      a: new Date(start + 8000).toISOString(),
      b: new Date(start + 9000).toISOString(),
      browser: null,
    });
  });

  it("a malformed key is refused without a single SQL statement", async () => {
    const valid = generateKey("SECRET", "LIVE");
    const mistyped = valid.slice(0, 20) + (valid[20] === "A" ? "B" : "A") + valid.slice(21);
    const { statements } = await counting(() => expectCode(client(mistyped).me(), "invalid_key_format"));
    expect(statements).toEqual([]);
  });
});

describe("a page of keys costs a constant number of queries (DataLoader)", () => {
  let ws: { id: string; slug: string };
  let owner: Awaited<ReturnType<typeof signUp>>;
  let creators: Awaited<ReturnType<typeof signUp>>[];

  beforeAll(async () => {
    owner = await signUp("page-owner");
    ws = (await owner.client.createWorkspace({ input: { name: "Pages", slug: freshSlug("pages") } })).createWorkspace;
    const admin = await signUp("page-admin");
    const moderator = await signUp("page-moderator");
    await owner.client.addMember({ input: { workspaceId: ws.id, email: admin.email, role: "ADMIN" } });
    await owner.client.addMember({ input: { workspaceId: ws.id, email: moderator.email, role: "MODERATOR" } });
    creators = [owner, admin, moderator];
    for (let i = 0; i < 10; i++) {
      const creator = creators[i % creators.length];
      await creator?.client.createApiKey({
        input: { workspaceId: ws.id, name: `key ${i}`, type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
      });
    }
  });

  const listPage = () => counting(() => owner.client.apiKeys({ workspaceId: ws.id, environment: "LIVE", first: 100 }));

  function expectCreators(edges: { node: { name: string; createdBy: { id: string; email: string } | null } }[]) {
    for (const { node } of edges) {
      const index = Number(node.name.split(" ")[1]);
      const creator = creators[index % creators.length];
      expect(node.createdBy).toEqual({ id: creator?.id, email: creator?.email });
    }
  }

  it("10 keys and 100 keys, each with createdBy and workspace, cost the same few queries", async () => {
    // Warm-up, so nothing one-off (connection set-up) is counted.
    await owner.client.apiKeys({ workspaceId: ws.id, environment: "LIVE", first: 100 });

    const ten = await listPage();
    expect(ten.result.apiKeys.edges).toHaveLength(10);
    expect(ten.result.apiKeys.totalCount).toBe(10);
    expectCreators(ten.result.apiKeys.edges);
    for (const { node } of ten.result.apiKeys.edges) expect(node.workspace).toEqual({ id: ws.id, slug: ws.slug });

    await db().apiKey.createMany({
      data: Array.from({ length: 90 }, (_, j) => {
        const i = 10 + j;
        const secret = generateKey("SECRET", "LIVE");
        return {
          workspaceId: ws.id,
          environment: "LIVE" as const,
          type: "SECRET" as const,
          name: `key ${i}`,
          hash: hashKey(secret),
          start: keyStart(secret),
          scopes: ["keys:read"],
          createdById: creators[i % creators.length]?.id ?? null,
        };
      }),
    });

    const hundred = await listPage();
    expect(hundred.result.apiKeys.edges).toHaveLength(100);
    expect(hundred.result.apiKeys.totalCount).toBe(100);
    expectCreators(hundred.result.apiKeys.edges);
    for (const { node } of hundred.result.apiKeys.edges) expect(node.workspace).toEqual({ id: ws.id, slug: ws.slug });

    expect(hundred.statements.length, hundred.statements.join("\n")).toBe(ten.statements.length);
    expect(ten.statements.length, ten.statements.join("\n")).toBeLessThanOrEqual(12);
    // One users query (IN …) serves every createdBy of the page, and the workspace
    // is read once, shared by the access check and every node.
    const batched = (table: string) =>
      hundred.statements.filter((sql) => new RegExp(`FROM "public"."${table}" WHERE .* IN \\(`).test(sql));
    expect(batched("users")).toHaveLength(1);
    expect(hundred.statements.filter((sql) => /FROM "public"."workspaces"/.test(sql))).toHaveLength(1);
    expect(hundred.statements.filter((sql) => /FROM "public"."api_keys"/.test(sql))).toHaveLength(2);
  });
});
