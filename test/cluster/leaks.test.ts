import { randomBytes } from "node:crypto";
import { createClient, type KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { keysDocument, match, scanningKey, signedBy } from "../helpers/github-scanning";
import { type ServerProcess, startServer, waitFor } from "../helpers/processes";

// A leaked-key report GitHub sends to one instance stops the key on every instance:
// B, whose cache holds the key, refuses it within a second of A's answer. Needs
// DATABASE_URL; `.ci/run` provides it.

const github = scanningKey("cluster-github-key");
let database: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;
let ownerB: KeywardClient;
let ownerA: KeywardClient;

const client = (server: ServerProcess, token?: string) => createClient({ url: `${server.url}/graphql`, token });

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error("the leak cluster tests need DATABASE_URL pointing at PostgreSQL");
  database = await openTestDatabase();
  const env = {
    DATABASE_URL: database.url ?? "",
    KEYWARD_MASTER_KEY: randomBytes(32).toString("base64"),
    KEYWARD_GITHUB_KEYS_URL: keysDocument([github]).url,
  };
  [a, b] = await Promise.all([startServer(env), startServer(env)]);
  const { signUp } = await client(a).signUp({
    input: { email: "leaks@cluster.test", password: "correct horse battery staple", name: "Leaks" },
  });
  ownerA = client(a, signUp.token);
  ownerB = client(b, signUp.token);
}, 90_000);

afterAll(async () => {
  a?.kill();
  b?.kill();
  await database?.drop();
});

describe("two instances sharing PostgreSQL", () => {
  it("a key GitHub reports to A is refused by B's warm cache within one second", async () => {
    const { createWorkspace } = await ownerA.createWorkspace({ input: { name: "Leaks", slug: "leaks-cluster" } });
    const { createApiKey } = await ownerA.createApiKey({
      input: { workspaceId: createWorkspace.id, name: "k", type: "SECRET", environment: "LIVE" },
    });
    const key = createApiKey.secret;
    const onB = async () => (await ownerB.verifyApiKey({ input: { key } })).verifyApiKey.code;
    expect(await onB()).toBe("VALID");
    expect(await onB()).toBe("VALID");
    const body = JSON.stringify([match(key)]);
    const response = await fetch(`${a.url}/leaks/github`, { method: "POST", headers: signedBy(github, body), body });
    expect(((await response.json()) as Array<{ label: string }>)[0]?.label).toBe("true_positive");
    const reportedAt = Date.now();
    await waitFor(async () => (await onB()) === "invalid_api_key", 5_000);
    expect(Date.now() - reportedAt).toBeLessThan(1_000);
  });
});
