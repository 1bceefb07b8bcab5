import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Real processes for tests that need them: Keyward servers as `npm start` runs
// them, and a Redis of the test's own that it can kill and restart.

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = path.join(root, "node_modules/.bin/tsx");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface Child {
  process: ChildProcess;
  /** stdout and stderr as they arrived. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** SIGKILL to the whole process group (tsx starts node as a child). */
  kill(): void;
}

function launch(command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill() {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    },
  };
}

const INHERITED = ["PATH", "HOME", "TMPDIR", "LANG"];

export interface ServerProcess extends Child {
  url: string;
  port: number;
}

/** `tsx server/index.ts` with exactly the given environment (plus PATH and friends), not waited for. */
export function spawnServer(env: Record<string, string>): Child {
  const base: NodeJS.ProcessEnv = Object.fromEntries(
    INHERITED.filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
  );
  return launch(tsx, ["server/index.ts"], { ...base, NODE_ENV: "test", LOG_LEVEL: "warn", ...env });
}

/** Starts a server on a free port and waits for /readyz (failing early if it exits). */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawnServer({ ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  let ready = false;
  await Promise.race([
    waitFor(
      async () => (await fetch(`${url}/readyz`)).status === 200,
      30_000,
      () => child.output(),
    ).then(() => {
      ready = true;
    }),
    child.exited.then((code) => {
      if (!ready) throw new Error(`server exited (${code}) before it was ready:\n${child.output()}`);
    }),
  ]);
  return { ...child, url, port };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, context = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A throwaway Redis on its own port, without persistence. */
export async function startRedis(port?: number): Promise<Child & { port: number }> {
  const chosen = port ?? (await freePort());
  const child = launch(
    "redis-server",
    ["--port", String(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      PATH: process.env.PATH,
    },
  );
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(chosen, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      }),
    10_000,
    () => child.output(),
  );
  return { ...child, port: chosen };
}
