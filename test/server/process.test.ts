import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Child, type ServerProcess, spawnServer, startServer } from "../helpers/processes";

// The real server, as `npm start` runs it: a child process on a real port, with a
// clean environment (the test run's DATABASE_URL or secrets never leak into it).

const children: Child[] = [];
const tempDirs: string[] = [];

afterAll(() => {
  for (const child of children) child.kill();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("server/index.ts as a process", () => {
  it("exits with code 1 and one line on stderr naming PORT when PORT=abc", async () => {
    const running = spawnServer({ PORT: "abc" });
    children.push(running);
    const code = await running.exited;
    expect(code).toBe(1);
    const stderr = running.stderr();
    const lines = stderr.split("\n").filter((line) => line !== "");
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain("PORT");
    expect(stderr.endsWith("\n")).toBe(true);
  }, 30_000);

  it("serves over real HTTP, then stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-process-"));
    tempDirs.push(dataDir);
    const password = "process test passphrase 42";
    const running: ServerProcess = await startServer({
      HOST: "127.0.0.1",
      KEYWARD_DATA_DIR: dataDir,
      LOG_LEVEL: "info",
    });
    children.push(running);

    const response = await fetch(`${running.url}/graphql`, {
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

    running.process.kill("SIGTERM");
    expect(await running.exited).toBe(0);
    expect(running.process.signalCode).toBeNull();

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
  }, 60_000);
});
