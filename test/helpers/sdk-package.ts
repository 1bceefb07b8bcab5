import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// The SDK as a user gets it: `npm pack -w sdk` (whose prepack builds dist), installed
// from the tarball into an app in a temporary folder outside the repo, so nothing can
// resolve through the repo's own node_modules.

export const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

export interface Packed {
  tarball: string;
  bytes: number;
  files: string[];
}

export async function packSdk(into: string): Promise<Packed> {
  const { stdout } = await run("npm", ["pack", "-w", "sdk", "--json", "--pack-destination", into], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  // prepack's build output precedes npm's JSON report on stdout.
  const [report] = JSON.parse(stdout.slice(stdout.indexOf("[\n"))) as {
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  if (!report) throw new Error(`npm pack reported nothing:\n${stdout}`);
  return { tarball: path.join(into, report.filename), bytes: report.size, files: report.files.map((f) => f.path) };
}

/**
 * A fresh app with the tarball installed, offline. The SDK's dependencies come from the
 * repo's own install (`file:` copies, `--install-links`): `npm ci` fills npm's cache with
 * tarballs but not the registry metadata `npm install <tarball>` would need to resolve
 * ranges, so a plain offline install fails on a fresh clone.
 */
export async function installApp(tarball: string, fixtures: string, app: string): Promise<string> {
  cpSync(fixtures, app, { recursive: true });
  const fromRepo = (name: string) => `file:${path.join(root, "node_modules", name)}`;
  writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify({
      name: "sdk-consumer",
      private: true,
      type: "module",
      dependencies: {
        "@keyward/sdk": `file:${tarball}`,
        "@graphql-typed-document-node/core": fromRepo("@graphql-typed-document-node/core"),
        graphql: fromRepo("graphql"),
      },
    }),
  );
  await run("npm", ["install", "--offline", "--install-links", "--no-audit", "--no-fund", "--ignore-scripts"], {
    cwd: app,
  });
  return app;
}

/** A temporary folder outside the repo, for the tarball and the app. */
export const scratch = (): string => mkdtempSync(path.join(tmpdir(), "keyward-sdk-"));

export function remove(folder: string): void {
  rmSync(folder, { recursive: true, force: true });
}

/** Runs a command, resolving with its exit code and output whatever the code. */
export async function attempt(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; output: string; stdout: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === "number" ? failed.code : 1,
      output: `${failed.stdout ?? ""}${failed.stderr ?? ""}`,
      stdout: failed.stdout ?? "",
    };
  }
}
