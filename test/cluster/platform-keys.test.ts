import { randomBytes } from "node:crypto";
import { createClient, type KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdminCli } from "../helpers/admin-cli";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { type ServerProcess, startServer, waitFor } from "../helpers/processes";

// Platform keys on PostgreSQL with two running instances: `npm run admin` opens its
// own connection while the servers run, and a revocation — from the CLI or from
// the API on one instance — is refused by both within a second (the change's
// transaction announces it; server/keys/invalidation.ts). Needs DATABASE_URL.

const PASSWORD = "correct horse battery staple";

let database: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;
let env: Record<string, string>;
let customerKey: string;

const client = (server: ServerProcess, token?: string): KeywardClient =>
  createClient({ url: `${server.url}/graphql`, token });

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error("the platform-key cluster tests need DATABASE_URL (PostgreSQL)");
  database = await openTestDatabase();
  env = { DATABASE_URL: database.url ?? "", KEYWARD_MASTER_KEY: randomBytes(32).toString("base64") };
  [a, b] = await Promise.all([startServer(env), startServer(env)]);
  const { signUp } = await client(a).signUp({ input: { email: "owner@pk.test", password: PASSWORD, name: "Owner" } });
  const owner = client(a, signUp.token);
  const { createWorkspace } = await owner.createWorkspace({ input: { name: "PK", slug: "platform-keys" } });
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId: createWorkspace.id, name: "customer", type: "SECRET", environment: "LIVE" },
  });
  customerKey = createApiKey.secret;
}, 90_000);

afterAll(async () => {
  a?.kill();
  b?.kill();
  await database?.drop();
});

async function createWithCli(): Promise<{ id: string; secret: string }> {
  const run = await runAdminCli(["create-platform-key", "--name", "edge", "--scope", "keys:verify"], env);
  expect(run.code, run.stderr).toBe(0);
  return { id: /\(([0-9a-f-]{36})\)/.exec(run.stderr)?.[1] ?? "", secret: run.stdout.trim() };
}

/** What the server answers a verification made with this platform key: the result's code, or the error's. */
async function answer(server: ServerProcess, platformKey: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/keys/verify`, {
    method: "POST",
    headers: { authorization: `Bearer ${platformKey}`, "content-type": "application/json" },
    body: JSON.stringify({ key: customerKey }),
  });
  const body = (await response.json()) as { code?: string; error?: { code: string } };
  return body.error?.code ?? body.code ?? String(response.status);
}

async function refusedByBothWithinASecond(platformKey: string) {
  const revokedAt = Date.now();
  for (const server of [a, b]) {
    await waitFor(async () => (await answer(server, platformKey)) === "invalid_api_key", 5_000);
  }
  expect(Date.now() - revokedAt).toBeLessThan(1_000);
}

describe("platform keys across instances on PostgreSQL", () => {
  it("a key made with the CLI while both servers run works on both; revoked with the CLI, both refuse it", async () => {
    const key = await createWithCli();
    expect(await answer(a, key.secret)).toBe("VALID");
    expect(await answer(b, key.secret)).toBe("VALID");
    const run = await runAdminCli(["revoke-platform-key", key.id], env);
    expect(run.code, run.stderr).toBe(0);
    await refusedByBothWithinASecond(key.secret);
  });

  it("revoked by a platform admin through A's API, B refuses it within a second", async () => {
    const made = await runAdminCli(["create-admin", "--email", "ops@pk.test", "--password-stdin"], env, PASSWORD);
    expect(made.code, made.stderr).toBe(0);
    const { signIn } = await client(a).signIn({ input: { email: "ops@pk.test", password: PASSWORD } });
    const key = await createWithCli();
    expect(await answer(b, key.secret)).toBe("VALID");
    await client(a, signIn.token).revokePlatformKey({ input: { id: key.id } });
    await refusedByBothWithinASecond(key.secret);
    const listed = await runAdminCli(["list-platform-keys"], env);
    expect(listed.stdout).toContain(`${key.id}  ${key.secret.slice(0, 8)}  REVOKED`);
  });
});
