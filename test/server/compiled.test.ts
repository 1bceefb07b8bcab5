import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/processes";

// `npm start` as an operator runs it: it builds what is missing (prestart), then
// npm's child is node running the compiled bundle, the server itself: no tsx and
// no shell in between, so the pid a supervisor sees is the server's.

const root = fileURLToPath(new URL("../../", import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-compiled-"));
let npm: ReturnType<typeof spawn> | undefined;
afterAll(() => {
  if (npm?.pid && npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid, "SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

const children = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);

describe("npm start", () => {
  it("runs the compiled server as npm's only child, which serves the API on the embedded database", async () => {
    const port = await freePort();
    let output = "";
    npm = spawn("npm", ["start"], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYWARD_DATA_DIR: dataDir, PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    npm.stdout?.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    npm.stderr?.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${url}/readyz`)).status === 200,
      90_000,
      () => output,
    );

    const [server, ...others] = children(npm.pid as number);
    expect(others).toEqual([]);
    expect(commandLine(server as number).slice(1)).toEqual([
      "--enable-source-maps",
      "--max-semi-space-size=4",
      "--heap-growing-percent=20",
      "dist/server/index.js",
    ]);
    expect(children(server as number)).toEqual([]);

    // Prisma's generated client, the migrations and argon2 all work from the bundle.
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "mutation($input: SignUpInput!) { signUp(input: $input) { user { email } } }",
        variables: { input: { email: "compiled@example.com", password: "compiled passphrase 42", name: "C" } },
      }),
    });
    expect(await response.json()).toEqual({ data: { signUp: { user: { email: "compiled@example.com" } } } });

    // SIGTERM to npm reaches the server, which stops cleanly.
    const exited = new Promise<number | null>((resolve) => npm?.once("exit", resolve));
    process.kill(npm.pid as number, "SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"stopped"');
  }, 120_000);
});
