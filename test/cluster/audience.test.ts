import { randomBytes } from "node:crypto";
import { createClient, type KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORIGIN, sign } from "../helpers/audience";
import { openTestDatabase, type TestDatabase } from "../helpers/db";
import { type ServerProcess, startServer, waitFor } from "../helpers/processes";

// Audience tokens on two real Keyward processes sharing PostgreSQL and one master
// key: a signing key made on A checks tokens on B, and every change made on A (a
// signing key revoked or added, an audience deleted, requireAudienceToken) reaches
// B's in-memory caches as fast as a revocation. Needs DATABASE_URL; `.ci/run` provides it.

let database: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;
let ownerA: KeywardClient;
let verifierB: KeywardClient;
let workspaceId: string;
let publishable: string;

const client = (server: ServerProcess, token?: string) => createClient({ url: `${server.url}/graphql`, token });

async function createKey(input: { scopes?: string[]; canSignTokens?: boolean; type?: "SECRET" | "PUBLISHABLE" }) {
  const { createApiKey } = await ownerA.createApiKey({
    input: {
      workspaceId,
      name: "cluster key",
      type: input.type ?? "SECRET",
      environment: "LIVE",
      scopes: input.scopes ?? [],
      canSignTokens: input.canSignTokens,
      allowedOrigins: input.type === "PUBLISHABLE" ? [ORIGIN] : undefined,
    },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

beforeAll(async () => {
  if (!process.env.DATABASE_URL) throw new Error("the cluster tests need DATABASE_URL pointing at PostgreSQL");
  database = await openTestDatabase();
  const env = { DATABASE_URL: database.url ?? "", KEYWARD_MASTER_KEY: randomBytes(32).toString("base64") };
  [a, b] = await Promise.all([startServer(env), startServer(env)]);
  const { signUp } = await client(a).signUp({
    input: { email: "owner@audience.test", password: "correct horse battery staple", name: "Owner" },
  });
  ownerA = client(a, signUp.token);
  workspaceId = (await ownerA.createWorkspace({ input: { name: "Audience", slug: "audience-cluster" } }))
    .createWorkspace.id;
  await ownerA.createAudience({ input: { workspaceId, name: "enterprise" } });
  verifierB = client(b, (await createKey({ scopes: ["keys:verify"] })).secret);
  publishable = (await createKey({ type: "PUBLISHABLE", scopes: ["keys:read"] })).secret;
}, 90_000);

afterAll(async () => {
  a?.kill();
  b?.kill();
  await database?.drop();
});

const token = (secret: string, audience = "enterprise") => {
  const now = Math.floor(Date.now() / 1000);
  return sign(secret, { audience, iat: now, exp: now + 600 });
};

const onB = async (signed: string | undefined) =>
  (await verifierB.verifyApiKey({ input: { key: publishable, token: signed, origin: ORIGIN } })).verifyApiKey.code;

/** Waits until B answers `code`, and says how long after `since` it did. */
async function seenOnB(signed: string | undefined, code: string, since: number): Promise<number> {
  await waitFor(async () => (await onB(signed)) === code, 5_000);
  return Date.now() - since;
}

describe("audience tokens on two instances", () => {
  it("a signing key made on A checks tokens on B (one master key); revoked on A, B refuses within a second", async () => {
    const signer = await createKey({ canSignTokens: true });
    const signed = await token(signer.secret);
    expect(await onB(signed)).toBe("VALID");
    await ownerA.revokeApiKey({ input: { id: signer.id } });
    expect(await seenOnB(signed, "invalid_audience_token", Date.now())).toBeLessThan(1_000);
  });

  it("a signing key added on A signs on B within a second, though B had the signers cached", async () => {
    const first = await createKey({ canSignTokens: true });
    expect(await onB(await token(first.secret))).toBe("VALID");
    const added = await createKey({ canSignTokens: true });
    expect(await seenOnB(await token(added.secret), "VALID", Date.now())).toBeLessThan(1_000);
  });

  it("an audience deleted on A is unknown on B within a second", async () => {
    const signer = await createKey({ canSignTokens: true });
    const { createAudience } = await ownerA.createAudience({
      input: { workspaceId, name: "brief", parent: "enterprise" },
    });
    const signed = await token(signer.secret, "brief");
    expect(await onB(signed)).toBe("VALID");
    await ownerA.deleteAudience({ input: { id: createAudience.id } });
    expect(await seenOnB(signed, "invalid_audience_token", Date.now())).toBeLessThan(1_000);
  });

  it("requireAudienceToken switched on at A is enforced by B within a second", async () => {
    expect(await onB(undefined)).toBe("VALID");
    await ownerA.setRequireAudienceToken({ input: { workspaceId, required: true } });
    expect(await seenOnB(undefined, "audience_token_required", Date.now())).toBeLessThan(1_000);
  });
});
