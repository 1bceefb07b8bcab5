import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyCache } from "../../server/keys/cache";
import { announce, type InvalidationBus, postgresBus } from "../../server/keys/invalidation";
import { createLogger } from "../../server/logger";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/processes";

// Invalidations travel with the change that causes them: pg_notify inside the
// change's transaction reaches listening instances when, and only if, it commits.
// Needs DATABASE_URL (PostgreSQL); `.ci/run` provides it.

let database: TestDatabase;
let bus: InvalidationBus;
const heard: string[] = [];

// Only what the bus calls on a cache, recorded.
const recordingCache = {
  invalidateKeys: (hashes: readonly string[]) => heard.push(...hashes.map((h) => `key ${h}`)),
  invalidateWorkspace: (id: string) => heard.push(`workspace ${id}`),
  clear: () => heard.push("clear"),
} as unknown as KeyCache;

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error("the invalidation tests need DATABASE_URL pointing at PostgreSQL");
  database = await openTestDatabase();
  bus = await postgresBus(database.url ?? "", recordingCache, createLogger("silent"));
});

afterAll(async () => {
  await bus?.close();
  await database?.drop();
});

describe("announce", () => {
  it("is heard once its transaction commits, not before", async () => {
    let sentAt = 0;
    await database.database.prisma.$transaction(async (tx) => {
      await announce(tx, { kind: "keys", hashes: ["committed-hash"] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Still inside the transaction: nobody has heard yet.
      expect(heard).not.toContain("key committed-hash");
      sentAt = Date.now();
    });
    await waitFor(async () => heard.includes("key committed-hash"), 2_000);
    expect(Date.now() - sentAt).toBeLessThan(1_000);
  });

  it("is never heard when its transaction rolls back", async () => {
    await expect(
      database.database.prisma.$transaction(async (tx) => {
        await announce(tx, { kind: "keys", hashes: ["rolled-back-hash"] });
        await announce(tx, { kind: "workspace", id: "rolled-back-workspace" });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    // A committed announcement sent afterwards arrives; the rolled-back ones never do.
    await database.database.prisma.$transaction((tx) => announce(tx, { kind: "workspace", id: "after" }));
    await waitFor(async () => heard.includes("workspace after"), 2_000);
    expect(heard).not.toContain("key rolled-back-hash");
    expect(heard).not.toContain("workspace rolled-back-workspace");
  });
});
