import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// Tests that drive Debian's Chromium (/usr/bin/chromium) with playwright-core. Kept out
// of `npm test`; `npm run test:browser` and .ci/run run them. (Spread, not mergeConfig:
// that would append the base's exclude, which names test/browser.)
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/browser/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
  },
});
