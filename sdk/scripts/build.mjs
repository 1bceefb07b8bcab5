// Builds dist/esm (ESM, with .d.ts, by tsc: it type-checks too) and dist/cjs (the same
// modules as CommonJS, by esbuild, file for file, no bundling). The declarations are the
// same for both: dist/cjs gets a copy, read as CommonJS thanks to its package.json.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL("../", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(`${here}dist`, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: here, stdio: "inherit" });
await build({
  absWorkingDir: here,
  entryPoints: ["src/**/*.ts"],
  outdir: "dist/cjs",
  outbase: "src",
  format: "cjs",
  platform: "neutral",
  target: "es2022",
  logLevel: "warning",
});
cpSync(`${here}dist/esm`, `${here}dist/cjs`, { recursive: true, filter: (src) => !src.endsWith(".js") });
// The package is "type": "module"; this nearer package.json makes dist/cjs CommonJS.
writeFileSync(`${here}dist/cjs/package.json`, `${JSON.stringify({ type: "commonjs" })}\n`);
