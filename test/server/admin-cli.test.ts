import { mkdtempSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient, type KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminPaths } from "../../server/platform/admin-channel";
import { runAdminCli } from "../helpers/admin-cli";
import { type ServerProcess, startServer } from "../helpers/processes";

// `npm run admin` while the server runs on the embedded database. PGlite lives in
// the server's process and its data directory is locked, so the CLI goes through the
// server's local admin channel (a 0600 Unix socket beside a 0600 credential file):
// the keys it makes work on the running server at once, and a revocation reaches
// the server's cache before the command returns. Stopped, the CLI opens the data
// directory itself. (test/cluster/platform-keys.test.ts does the same on PostgreSQL.)

const SHAPE = /^kwp_[A-Za-z0-9_-]{32}[0-9A-Za-z]{6}$/;
const PASSWORD = "correct horse battery staple";

let dataDir: string;
let server: ServerProcess;
let env: Record<string, string>;
let customerKey: string;

const cli = (...args: string[]) => runAdminCli(args, env);
const graphql = (token?: string): KeywardClient => createClient({ url: `${server.url}/graphql`, token });
const restVerify = (verifier: string, key: string) =>
  fetch(`${server.url}/v1/keys/verify`, {
    method: "POST",
    headers: { authorization: `Bearer ${verifier}`, "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "keyward-cli-"));
  env = { KEYWARD_DATA_DIR: dataDir };
  server = await startServer(env);
  const { signUp } = await graphql().signUp({ input: { email: "owner@cli.test", password: PASSWORD, name: "Owner" } });
  const owner = graphql(signUp.token);
  const { createWorkspace } = await owner.createWorkspace({ input: { name: "CLI", slug: "cli" } });
  const { createApiKey } = await owner.createApiKey({
    input: { workspaceId: createWorkspace.id, name: "customer", type: "SECRET", environment: "LIVE" },
  });
  customerKey = createApiKey.secret;
}, 60_000);

afterAll(() => {
  server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("admin commands while the server runs (embedded database)", () => {
  let created: { id: string; secret: string };

  it("create-platform-key prints the value alone on stdout, and the running server accepts it at once", async () => {
    const run = await cli(
      "create-platform-key",
      "--name",
      "edge",
      "--scope",
      "keys:verify",
      "--scope",
      "workspaces:read",
    );
    expect(run.code, run.stderr).toBe(0);
    const secret = run.stdout.trim();
    expect(secret).toMatch(SHAPE);
    expect(run.stderr).toContain("scopes keys:verify, workspaces:read");
    const id = /\(([0-9a-f-]{36})\)/.exec(run.stderr)?.[1] ?? "";
    created = { id, secret };
    const response = await restVerify(secret, customerKey);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ valid: true, code: "VALID" });
  });

  it("list-platform-keys shows it with its start and status, never its value", async () => {
    const run = await cli("list-platform-keys", "--json");
    expect(run.code, run.stderr).toBe(0);
    const keys = JSON.parse(run.stdout) as { id: string; start: string; status: string }[];
    expect(keys).toEqual([
      expect.objectContaining({ id: created.id, start: created.secret.slice(0, 8), status: "ACTIVE" }),
    ]);
    expect(run.stdout).not.toContain(created.secret.slice(8));
    expect(run.stdout).not.toContain("hash");
  });

  it("refuses a scope outside the platform vocabulary or an unreadable expiry, with the reason and exit code 1", async () => {
    const run = await cli("create-platform-key", "--name", "x", "--scope", "*");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown platform scope "*"');
    expect(run.stdout).toBe("");
    const expiry = await cli("create-platform-key", "--name", "x", "--scope", "keys:verify", "--expires-at", "soon");
    expect(expiry.code).toBe(1);
    expect(expiry.stderr).toContain("expiresAt: must be an ISO 8601 time");
  });

  it("revoke-platform-key: the running server refuses the key on its very next use", async () => {
    const run = await cli("revoke-platform-key", created.id, "--reason", "rotated");
    expect(run.code, run.stderr).toBe(0);
    const response = await restVerify(created.secret, customerKey);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
  });

  it("create-admin and verify-audit work too", async () => {
    const run = await runAdminCli(
      ["create-admin", "--email", "ops@cli.test", "--password-stdin"],
      env,
      `${PASSWORD}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    const { signIn } = await graphql().signIn({ input: { email: "ops@cli.test", password: PASSWORD } });
    expect(signIn.user.isPlatformAdmin).toBe(true);
    const audit = await cli("verify-audit");
    expect(audit.stdout).toMatch(/^audit chain intact: \d+ events/);
  });

  it("the channel's directory is 0700, its socket and credential 0600", () => {
    const paths = adminPaths(dataDir);
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    expect(statSync(paths.socket).mode & 0o777).toBe(0o600);
    expect(statSync(paths.credential).mode & 0o777).toBe(0o600);
  });

  it("a local process that reaches the socket without the credential cannot mint a platform key", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.createConnection(adminPaths(dataDir).socket);
      let text = "";
      socket.on("connect", () =>
        socket.write(
          `${JSON.stringify({ credential: "guessed", command: "createPlatformKey", input: { name: "x", scopes: ["keys:verify"] } })}\n`,
        ),
      );
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(JSON.parse(reply)).toMatchObject({ ok: false, error: { code: "authentication_required" } });
    const listed = JSON.parse((await cli("list-platform-keys", "--json")).stdout) as unknown[];
    expect(listed).toHaveLength(1);
  });

  it("once the server stops, the channel is gone and the CLI opens the data directory itself", async () => {
    server.process.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(() => statSync(adminPaths(dataDir).socket)).toThrow();
    expect(() => statSync(adminPaths(dataDir).credential)).toThrow();
    const run = await cli("list-platform-keys");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${created.id}  ${created.secret.slice(0, 8)}  REVOKED`);
  });
});
