import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// `npm run test:faults`: real server processes while PostgreSQL, its LISTEN
// connection or Redis fail under them, and servers killed during the usage flush.
// Each file starts its own PostgreSQL cluster and Redis; files run one at a time
// (they stop and start servers, and time what they see).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/faults/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
