// Before `npm start`: runs `npm run build` when something it builds is missing or
// older than its sources, so a fresh clone's first start builds everything (the
// server bundle and every workspace that has a build script) and later starts cost
// a look at file times. The check is deliberately whole: any output missing or
// stale rebuilds all of it, which is what `npm run build` does.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SKIP = new Set(["node_modules", "dist", ".git"]);

/** The newest modification time under `dir` (0 when it does not exist), skipping dependencies and outputs. */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  const stat = statSync(dir);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    latest = Math.max(latest, newest(path.join(dir, entry.name)));
  }
  return latest;
}

/** The newest file time inside an output directory, or null when it is missing or empty. */
function builtAt(dir) {
  if (!existsSync(dir)) return null;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest || null;
}

const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const builds = [{ output: "dist/server", inputs: ["server", "prisma", "scripts/build-server.mjs", "package.json"] }];
for (const workspace of manifest.workspaces ?? []) {
  const own = JSON.parse(readFileSync(path.join(root, workspace, "package.json"), "utf8"));
  if (own.scripts?.build) builds.push({ output: `${workspace}/dist`, inputs: [workspace] });
}

const stale = builds.filter(({ output, inputs }) => {
  const built = builtAt(path.join(root, output));
  return built === null || Math.max(...inputs.map((input) => newest(path.join(root, input)))) > built;
});
if (stale.length) {
  console.error(`keyward: building (${stale.map((b) => b.output).join(", ")} missing or older than the sources)`);
  const result = spawnSync("npm", ["run", "build"], { cwd: root, stdio: ["ignore", 2, 2] });
  process.exit(result.status ?? 1);
}
