import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db";
import { type Child, type ServerProcess, spawnServer, startServer } from "../helpers/processes";

// A supervisor's view of the server on the embedded database: after kill -9 it is
// started again at once on the same data directory and must serve (the lock dies
// with its process); a second live server on that directory is still refused; and
// SIGTERM lets a request in flight finish, writes the usage collected so far and
// exits 0 within its bound.

const children: Child[] = [];
const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-restart-"));
const env = { KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: "warn" };
afterAll(() => {
  for (const child of children) child.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<ServerProcess> {
  const server = await startServer(env);
  children.push(server);
  return server;
}

async function gql<T>(url: string, query: string, variables: object = {}, token?: string): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const PASSWORD = "restart test passphrase 42";
const EMAIL = "restart@example.com";

async function createKey(url: string, token: string, workspaceId: string) {
  const made = await gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
    url,
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`,
    { input: { workspaceId, name: "restart", type: "SECRET", environment: "LIVE", scopes: [] } },
    token,
  );
  return { id: made.createApiKey.apiKey.id, secret: made.createApiKey.secret };
}

const authorize = (url: string, key: string) => fetch(`${url}/v1/authorize`, { headers: { "x-api-key": key } });

async function signIn(url: string): Promise<string> {
  const data = await gql<{ signIn: { token: string } }>(
    url,
    `mutation($input: SignInInput!) { signIn(input: $input) { token } }`,
    { input: { email: EMAIL, password: PASSWORD } },
  );
  return data.signIn.token;
}

let running: ServerProcess;
let token: string;
let workspaceId: string;
let survivor: { id: string; secret: string };

describe("restart after a crash, and a graceful stop", () => {
  it("kill -9, then an immediate restart on the same data directory serves, with everything acknowledged before the kill", async () => {
    const first = await start();
    token = (
      await gql<{ signUp: { token: string } }>(
        first.url,
        `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
        { input: { email: EMAIL, password: PASSWORD, name: "Restart" } },
      )
    ).signUp.token;
    workspaceId = (
      await gql<{ createWorkspace: { id: string } }>(
        first.url,
        `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }`,
        { input: { name: "Restart", slug: "restart" } },
        token,
      )
    ).createWorkspace.id;
    survivor = await createKey(first.url, token, workspaceId);

    first.kill();
    await first.exited;
    const killedAt = performance.now();
    running = await start();
    const restartMs = performance.now() - killedAt;
    console.log(`restart after kill -9: serving (/readyz 200) after ${Math.round(restartMs)} ms`);
    expect(restartMs).toBeLessThan(20_000);

    expect((await authorize(running.url, survivor.secret)).status).toBe(200);
    token = await signIn(running.url);
    const lock = JSON.parse(readFileSync(path.join(dataDir, "pglite.lock"), "utf8")) as { pid: number };
    expect(lock.pid).not.toBe(first.process.pid);
  }, 90_000);

  it("a second live server on the same data directory is refused, naming the owner, and the first keeps serving", async () => {
    const second = spawnServer({ ...env, PORT: String(running.port + 1) });
    children.push(second);
    expect(await second.exited).toBe(1);
    const owner = JSON.parse(readFileSync(path.join(dataDir, "pglite.lock"), "utf8")) as { pid: number };
    expect(second.stderr()).toContain(`is in use by another Keyward process (pid ${owner.pid})`);
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    expect((await authorize(running.url, survivor.secret)).status).toBe(200);
  }, 60_000);

  it("SIGTERM during a slow request: it completes, usage is written, the process exits 0 within 10 s", async () => {
    const key = await createKey(running.url, token, workspaceId);
    for (let i = 0; i < 7; i++) expect((await authorize(running.url, key.secret)).status).toBe(200);

    // A request in flight: headers and half its body sent, the rest after the signal.
    const body = JSON.stringify({ query: "{ me { email } }" });
    const socket = connect(running.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk;
    });
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalled = performance.now();
    running.process.kill("SIGTERM");
    // No longer accepting...
    let refused = false;
    for (let i = 0; !refused && i < 50; i++) {
      refused = await new Promise<boolean>((resolve) => {
        const probe: Socket = connect(running.port, "127.0.0.1");
        probe.once("connect", () => {
          probe.destroy();
          resolve(false);
        });
        probe.once("error", () => resolve(true));
      });
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refused).toBe(true);
    // ...while the request in flight is still answered.
    socket.write(body.slice(10));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain(`"email":"${EMAIL}"`);

    expect(await running.exited).toBe(0);
    const stoppedMs = performance.now() - signalled;
    console.log(`SIGTERM with a request in flight: exited 0 after ${Math.round(stoppedMs)} ms`);
    expect(stoppedMs).toBeLessThan(10_000);
    // The lock went with it.
    expect(existsSync(path.join(dataDir, "pglite.lock"))).toBe(false);

    const database = await openDatabase({ dataDir });
    try {
      const rows = await database.prisma.apiKeyUsage.findMany({ where: { keyId: key.id } });
      expect(rows.map((row) => [row.outcome, row.count])).toEqual([["VALID", 7]]);
      const used = await database.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
      expect(used.lastUsedAt).not.toBeNull();
    } finally {
      await database.close();
    }
  }, 60_000);
});
