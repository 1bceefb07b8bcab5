import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The real server, as `npm start` runs it: a child process on a real port.

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = path.join(root, "node_modules/.bin/tsx");

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const tempDirs: string[] = [];

/** A clean environment: the real server must not pick up the test run's database or secrets. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    "PORT",
    "HOST",
    "DATABASE_URL",
    "REDIS_URL",
    "KEYWARD_MASTER_KEY",
    "KEYWARD_PUBLIC_URL",
    "KEYWARD_DATA_DIR",
    "KEYWARD_SIGNUP",
    "KEYWARD_SESSION_TTL_HOURS",
    "LOG_LEVEL",
  ]) {
    delete env[name];
  }
  return { ...env, NODE_ENV: "test", ...extra };
}

function start(extra: Record<string, string>): Running {
  // Its own process group, so that cleanup also reaches the node process tsx starts.
  const child = spawn(tsx, ["server/index.ts"], {
    cwd: root,
    env: serverEnv(extra),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

function kill(child: ChildProcess) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

afterAll(() => {
  for (const child of children) kill(child);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(base: string, running: Running, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (running.child.exitCode !== null) {
      throw new Error(`server exited early (${running.child.exitCode}): ${running.stderr()}`);
    }
    try {
      const response = await fetch(`${base}/readyz`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`server not ready within ${timeoutMs} ms; stderr: ${running.stderr()}`);
}

describe("server/index.ts as a process", () => {
  it("exits with code 1 and one line on stderr naming PORT when PORT=abc", async () => {
    const running = start({ PORT: "abc" });
    try {
      const { code } = await running.exited;
      expect(code).toBe(1);
      const stderr = running.stderr();
      const lines = stderr.split("\n").filter((line) => line !== "");
      expect(lines, stderr).toHaveLength(1);
      expect(lines[0]).toContain("PORT");
      expect(stderr.endsWith("\n")).toBe(true);
    } finally {
      kill(running.child);
    }
  }, 30_000);

  it("serves over real HTTP, then stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-process-"));
    tempDirs.push(dataDir);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const running = start({ PORT: String(port), HOST: "127.0.0.1", KEYWARD_DATA_DIR: dataDir, LOG_LEVEL: "info" });
    const password = "process test passphrase 42";
    try {
      await waitReady(base, running, 30_000);

      const response = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "process-test-1" },
        body: JSON.stringify({
          query: "mutation($input: SignUpInput!) { signUp(input: $input) { token user { email } } }",
          variables: { input: { email: "process@example.com", password, name: "Process" } },
        }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-request-id")).toBe("process-test-1");
      const body = (await response.json()) as { data?: { signUp: { token: string; user: { email: string } } } };
      expect(body.data?.signUp.user.email).toBe("process@example.com");
      const token = body.data?.signUp.token ?? "";
      expect(token).toMatch(/^kws_/);

      running.child.kill("SIGTERM");
      const { code, signal } = await running.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });

      const pglite = path.join(dataDir, "pglite");
      expect(existsSync(pglite)).toBe(true);
      expect(statSync(pglite).isDirectory()).toBe(true);

      const stdout = running.stdout();
      const lines = stdout.split("\n").filter((line) => line.trim() !== "");
      expect(lines.length).toBeGreaterThan(0);
      const entries = lines.map((line) => {
        expect(() => JSON.parse(line), line).not.toThrow();
        return JSON.parse(line) as { level?: number; msg?: string; requestId?: string };
      });
      for (const entry of entries) {
        expect(entry.level).toEqual(expect.any(Number));
        expect(entry.msg).toEqual(expect.any(String));
      }
      const messages = entries.map((entry) => entry.msg ?? "");
      expect(messages.some((msg) => msg.startsWith("Keyward listening on"))).toBe(true);
      expect(messages).toContain("stopped");
      expect(entries.some((entry) => entry.requestId === "process-test-1" && entry.msg === "request")).toBe(true);
      expect(stdout).not.toContain(token);
      expect(stdout).not.toContain(password);
    } finally {
      kill(running.child);
    }
  }, 60_000);
});
