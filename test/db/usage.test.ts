import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db";
import { generateKey, hashKey, keyStart } from "../../server/keys/format";
import { UsageRecorder } from "../../server/keys/usage";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

// The usage recorder's writes against a real database: a batch far larger than
// one statement's parameter limit would allow as a VALUES list, keys deleted
// before the flush, counts that add up across flushes, lastUsedAt that never
// moves backwards, and a failed write that keeps what it had collected.

let test: TestDatabase;
let db: Db;
let workspaces = 0;

beforeAll(async () => {
  test = await openTestDatabase();
  db = test.database.prisma;
});

afterAll(() => test.drop());

/** n keys in a workspace of their own. */
async function makeKeys(n: number): Promise<string[]> {
  const workspace = await db.workspace.create({ data: { name: "Usage", slug: `usage-${++workspaces}` } });
  const ids = Array.from({ length: n }, () => randomUUID());
  const secrets = ids.map(() => generateKey("SECRET", "LIVE"));
  await db.$executeRawUnsafe(
    `INSERT INTO api_keys (id, workspace_id, environment, type, name, hash, start, scopes, allowed_origins, allowed_ips)
     SELECT r.id, $1::uuid, 'LIVE', 'SECRET', 'usage', r.hash, r.start, ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[]
     FROM unnest($2::uuid[], $3::text[], $4::text[]) AS r(id, hash, start)`,
    workspace.id,
    ids,
    secrets.map(hashKey),
    secrets.map(keyStart),
  );
  return ids;
}

/** Usage rows of the workspace that holds this key. */
async function inWorkspaceOf(keyId: string) {
  const { workspaceId } = await db.apiKey.findUniqueOrThrow({ where: { id: keyId } });
  return { key: { workspaceId } };
}

const HOUR = 3_600_000;
const at = (ms: number) => new Date(Date.UTC(2026, 10, 22, 10) + ms);

async function countsOf(keyIds: string[]) {
  const rows = await db.apiKeyUsage.findMany({ where: { keyId: { in: keyIds } } });
  return new Map(rows.map((r) => [`${r.keyId}|${r.hour.toISOString()}|${r.outcome}`, r.count]));
}

describe("UsageRecorder.flush", () => {
  it("writes 40,000 keys' lastUsedAt and 80,000 counts in one flush", async () => {
    // 40,000 × 2 columns as a VALUES list would pass PostgreSQL's 65,535-parameter limit.
    const ids = await makeKeys(40_000);
    const usage = new UsageRecorder(db);
    ids.forEach((id, i) => {
      usage.touch(id, at(i));
      usage.count(id, "VALID", at(i), 2);
      usage.count(id, "rate_limit_exceeded", at(i + HOUR));
    });
    expect(await usage.flush()).toBe(40_000);

    const sample = [0, 1, 17_777, 39_999];
    for (const i of sample) {
      const id = ids[i] ?? "";
      const row = await db.apiKey.findUniqueOrThrow({ where: { id } });
      expect(row.lastUsedAt?.toISOString()).toBe(at(i).toISOString());
    }
    const ofTheseKeys = await inWorkspaceOf(ids[0] ?? "");
    expect(await db.apiKeyUsage.count({ where: ofTheseKeys })).toBe(80_000);
    const total = await db.apiKeyUsage.aggregate({ where: ofTheseKeys, _sum: { count: true } });
    expect(total._sum.count).toBe(120_000);
    expect(await usage.flush()).toBe(0);
  });

  it("adds counts across flushes, keeps the latest use, and skips keys deleted meanwhile", async () => {
    const [kept = "", gone = ""] = await makeKeys(2);
    const usage = new UsageRecorder(db);
    usage.touch(kept, at(5_000));
    usage.count(kept, "VALID", at(5_000));
    expect(await usage.flush()).toBe(1);

    // An older use arriving later must not move lastUsedAt backwards.
    usage.touch(kept, at(1_000));
    usage.count(kept, "VALID", at(1_000), 4);
    usage.count(kept, "key_revoked", at(1_000));
    usage.touch(gone, at(2_000));
    usage.count(gone, "VALID", at(2_000));
    await db.apiKey.delete({ where: { id: gone } });
    expect(await usage.flush()).toBe(2);

    const row = await db.apiKey.findUniqueOrThrow({ where: { id: kept } });
    expect(row.lastUsedAt?.toISOString()).toBe(at(5_000).toISOString());
    const hour = at(0).toISOString();
    expect(await countsOf([kept, gone])).toEqual(
      new Map([
        [`${kept}|${hour}|VALID`, 5],
        [`${kept}|${hour}|key_revoked`, 1],
      ]),
    );
  });

  it("a failed write keeps everything it had collected for the next flush", async () => {
    const [id = ""] = await makeKeys(1);
    let failNext = true;
    // The real database, except that the first flush's transaction fails.
    const flaky = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== "$transaction") return Reflect.get(target, property, receiver);
        return (...args: Parameters<Db["$transaction"]>) => {
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error("connection lost"));
          }
          return target.$transaction(...args);
        };
      },
    });
    const usage = new UsageRecorder(flaky);
    usage.touch(id, at(7_000));
    usage.count(id, "VALID", at(7_000), 3);
    await expect(usage.flush()).rejects.toThrow("connection lost");
    expect((await db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toBeNull();

    usage.count(id, "VALID", at(8_000));
    expect(await usage.flush()).toBe(1);
    expect((await db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt?.toISOString()).toBe(
      at(7_000).toISOString(),
    );
    expect(await countsOf([id])).toEqual(new Map([[`${id}|${at(0).toISOString()}|VALID`, 4]]));
  });
});
