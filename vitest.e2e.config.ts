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
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
