import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

// `npm run admin -- …` as the operator runs it: a child process with exactly the
// given environment (plus PATH and friends), optional standard input, and its exit
// code, stdout and stderr kept apart.

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = path.join(root, "node_modules/.bin/tsx");
const INHERITED = ["PATH", "HOME", "TMPDIR", "LANG"];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runAdminCli(args: string[], env: Record<string, string>, stdin = ""): Promise<CliRun> {
  const base = Object.fromEntries(INHERITED.filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  const child = spawn(tsx, ["server/cli/admin.ts", ...args], {
    cwd: root,
    env: { ...base, NODE_ENV: "test", LOG_LEVEL: "warn", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
