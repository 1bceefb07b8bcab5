import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// `npm run test:cluster`: real server processes sharing PostgreSQL and Redis.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/cluster/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
