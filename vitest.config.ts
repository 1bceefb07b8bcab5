import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Tests use the SDK from source, exactly as generated.
    alias: {
      "@keyward/sdk": fileURLToPath(new URL("./sdk/src/index.ts", import.meta.url)),
      // Pothos and graphql-shield load graphql through require(); make the tests'
      // own imports use that same copy, or instanceof checks fail across the two.
      graphql: fileURLToPath(new URL("./node_modules/graphql/index.js", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Real multi-process tests need PostgreSQL and Redis: `npm run test:cluster` and `npm run test:faults`;
    // tests in Chromium run with `npm run test:browser` (GraphiQL) and `npm run test:e2e` (the dashboard).
    exclude: ["test/cluster/**", "test/faults/**", "test/browser/**", "**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
