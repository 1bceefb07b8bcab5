import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// `npm run test:e2e`: GraphiQL offline and the dashboard in Debian's Chromium (/usr/bin/chromium) against
// a real server process. Fails, never skips, when Chromium is missing.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/browser/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    // web/dist is built once, before any file starts a server on it: files running side
    // by side must not rebuild it under each other's pages.
    globalSetup: ["test/browser/build-dashboard.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
