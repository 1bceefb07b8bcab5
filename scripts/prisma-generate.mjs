// Prisma's CLI wants to download a schema-engine binary even for `generate`, which
// only needs the bundled WASM. Pointing the variable at any existing file keeps
// `npm ci` working offline (see shared TOOLCHAIN notes).
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";
const result = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
