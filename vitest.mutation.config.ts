import { defineConfig } from "vitest/config";
import QuickestFirstSequencer from "./test/mutation/sequencer.ts";
import base from "./vitest.config.ts";

// `npm run test:mutation` (stryker.config.mjs) runs the suite through this config.
// Stryker switches a mutant on inside the test worker only, so tests whose subject is
// a child process can never kill one; and comparing generated files says nothing about
// the authorization rules being mutated. Both would only cost time.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    exclude: [
      ...(base.test?.exclude ?? []),
      // spawn server, CLI or lock-holding child processes, or pack and install the SDK
      "test/server/process.test.ts",
      "test/server/restart.test.ts",
      "test/server/compiled.test.ts",
      "test/server/admin-cli.test.ts",
      "test/server/migrate-cli.test.ts",
      "test/unit/data-lock.test.ts",
      "test/unit/contract-guard.test.ts",
      "test/sdk/package.test.ts",
      // schema.graphql and the SDK against their generators
      "test/schema/stale.test.ts",
    ],
    // One worker for all files: modules (and PGlite's WebAssembly) load once per run
    // instead of once per file. Every file still opens its own database.
    isolate: false,
    sequence: { ...base.test?.sequence, sequencer: QuickestFirstSequencer },
  },
});
