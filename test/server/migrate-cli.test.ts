import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient, type KeywardClient } from "@keyward/sdk";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../server/keys/format";
import { masterKeyFiles } from "../../server/keys/secret-box";
import { runAdminCli } from "../helpers/admin-cli";
import { type ServerProcess, startServer } from "../helpers/processes";

// import-keys, export-workspace and rotate-master-key as the operator runs them,
// against a real server on the embedded database (through its local admin
// channel), with the master key in the data directory as `npm start` makes it.

const ORIGIN = "https://chat.example.com";
let dataDir: string;
let server: ServerProcess;
let env: Record<string, string>;
let owner: KeywardClient;
let workspace: { id: string; slug: string };
let publishable: string;
let token: string;

const cli = (...args: string[]) => runAdminCli(args, env);
const graphql = (bearer?: string): KeywardClient => createClient({ url: `${server.url}/graphql`, token: bearer });
const verify = async (key: string, extra: { token?: string; origin?: string } = {}) =>
  (await owner.verifyApiKey({ input: { key, ...extra } })).verifyApiKey.code;
const authorize = async (key: string) =>
  (await fetch(`${server.url}/v1/authorize`, { headers: { "x-api-key": key } })).status;
const writeLines = (name: string, lines: object[]) => {
  const file = path.join(dataDir, name);
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n"));
  return file;
};

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "keyward-mig-"));
  env = { KEYWARD_DATA_DIR: dataDir };
  server = await startServer(env);
  const { signUp } = await graphql().signUp({
    input: { email: "owner@migrate.test", password: "correct horse battery staple", name: "Owner" },
  });
  owner = graphql(signUp.token);
  const { createWorkspace } = await owner.createWorkspace({ input: { name: "Migrate", slug: "migrate" } });
  workspace = { id: createWorkspace.id, slug: "migrate" };
  await owner.createAudience({ input: { workspaceId: workspace.id, name: "enterprise" } });
  const make = async (input: Record<string, unknown>) =>
    (
      await owner.createApiKey({
        input: { workspaceId: workspace.id, name: "k", type: "SECRET", environment: "LIVE", ...input },
      })
    ).createApiKey.secret;
  const signer = await make({ canSignTokens: true });
  // Room for the verification loop below: the default is 100 an hour.
  const rateLimit = { limit: 1_000_000, windowSeconds: 3600 };
  publishable = await make({ type: "PUBLISHABLE", scopes: ["keys:read"], allowedOrigins: [ORIGIN], rateLimit });
  token = await new SignJWT({ audience: "enterprise" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime("2h")
    .sign(new TextEncoder().encode(signer));
  expect(await verify(publishable, { token, origin: ORIGIN })).toBe("VALID");
}, 60_000);

afterAll(() => {
  server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("moving keys in and out while the server runs", () => {
  const foreign = `acme_${randomBytes(24).toString("hex")}`;
  const ours = generateKey("SECRET", "LIVE");
  let file: string;

  it("import-keys: the running server verifies the keys at once, even one it had cached as unknown", async () => {
    expect(await verify(ours)).toBe("not_found");
    file = writeLines("keys.jsonl", [
      { key: foreign, prefix: "acme_", workspace: "migrate", environment: "live", type: "secret", name: "a" },
      {
        hash: createHash("sha256").update(ours).digest("base64"),
        prefix: "sk_live_",
        format: "keyward",
        workspace: workspace.id,
        environment: "LIVE",
        type: "SECRET",
        name: "b",
      },
    ]);
    const run = await cli("import-keys", file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("imported 2 keys (0 already present)");
    expect(run.stdout + run.stderr).not.toContain(foreign.slice(5));
    expect([await verify(foreign), await verify(ours), await authorize(foreign)]).toEqual(["VALID", "VALID", 200]);
  });

  it("running the same file again changes nothing and says so", async () => {
    const run = await cli("import-keys", file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("nothing imported: all 2 keys are already present\n");
  });

  it("a bad line fails the whole file with its line number, field and catalog code (exit 1)", async () => {
    const fresh = `acme_${randomBytes(24).toString("hex")}`;
    const bad = writeLines("bad.jsonl", [
      { key: fresh, prefix: "acme_", workspace: "migrate", environment: "live", type: "secret", name: "ok" },
      {
        key: `acme_${"x".repeat(30)}`,
        prefix: "acme_",
        workspace: "migrate",
        environment: "live",
        type: "secret",
        name: "x",
        scopes: ["root"],
      },
    ]);
    const run = await cli("import-keys", bad);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('line 2: scopes: unknown scope "root"');
    expect(run.stderr).toContain("(validation_failed)");
    expect(await verify(fresh)).toBe("invalid_key_format");
  });

  it("export-workspace --out writes a 0600 backup holding the imported keys' hashes and no secret", async () => {
    const out = path.join(dataDir, "backup.json");
    const run = await cli("export-workspace", "migrate", "--out", out);
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const text = readFileSync(out, "utf8");
    expect(text).toContain(createHash("sha256").update(foreign).digest("hex"));
    for (const secret of [foreign, ours, publishable]) expect(text).not.toContain(secret.slice(8));
  });

  it("rotate-master-key re-seals under a new key while the server keeps verifying audience tokens", async () => {
    const files = masterKeyFiles(dataDir);
    const before = readFileSync(files.current, "utf8");
    let rotating = true;
    const codes: string[] = [];
    const load = (async () => {
      while (rotating) codes.push(await verify(publishable, { token, origin: ORIGIN }));
    })();
    const run = await cli("rotate-master-key");
    rotating = false;
    await load;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("api_keys.sealed_secret: 1 re-sealed, 0 unreadable");
    expect(new Set(codes)).toEqual(new Set(["VALID"]));
    expect(readFileSync(files.previous, "utf8")).toBe(before);
    expect(readFileSync(files.current, "utf8")).not.toBe(before);
    expect(existsSync(files.next)).toBe(false);
    expect(statSync(files.current).mode & 0o777).toBe(0o600);
    // A signing key made after the rotation is sealed under the new key by the running server.
    expect(await verify(publishable, { token, origin: ORIGIN })).toBe("VALID");
  });

  it("started again with only the new key (master.key.previous deleted), everything still opens", async () => {
    server.process.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    rmSync(masterKeyFiles(dataDir).previous);
    server = await startServer(env);
    owner = graphql(
      (await graphql().signIn({ input: { email: "owner@migrate.test", password: "correct horse battery staple" } }))
        .signIn.token,
    );
    expect(await verify(publishable, { token, origin: ORIGIN })).toBe("VALID");
    expect([await verify(foreign), await verify(ours)]).toEqual(["VALID", "VALID"]);
    const again = await cli("rotate-master-key");
    expect(again.stdout).toContain("re-sealed 1 values");
  }, 60_000);
});
