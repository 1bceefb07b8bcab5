// Mutation testing of the authorization and key-rule modules: `npm run test:mutation`.
// See docs/testing.md for what it covers, how incremental mode works and the survivors.

/** The modules whose every mutant a test must kill. Add a file here to extend the run. */
const MUTATE = [
  "server/auth/access.ts",
  "server/auth/shield.ts",
  "server/auth/principal.ts",
  "server/auth/permissions.ts",
  "server/auth/audience-access.ts",
  "server/auth/webhook-access.ts",
  "server/keys/grants.ts",
  "server/keys/scopes.ts",
  "server/keys/status.ts",
  "server/keys/lookup.ts",
  "server/keys/origins.ts",
  "server/keys/ips.ts",
];

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  // Run, for each mutant, only the tests that reached it during the dry run.
  coverageAnalysis: "perTest",
  // "Static" mutants are reached while a module loads (the role table, the permission
  // tree, the scope pattern) or in a beforeAll hook, outside any single test, so each
  // would run the whole suite (about 4 minutes here) — hours for the 60-odd of them.
  // The rule tables are checked against the authorization matrix instead
  // (scripts/matrix-mutants.sh; docs/testing.md has its last run).
  ignoreStatic: true,
  mutate: MUTATE,
  // Reuse earlier results for mutants whose code and covering tests did not change.
  // The file is committed, so a fresh checkout starts from the last recorded run.
  incremental: true,
  incrementalFile: "test/mutation/stryker-incremental.json",
  // The machine is shared; each test file also starts its own in-memory PGlite.
  concurrency: 1,
  // The dry run is the whole suite (minutes on a busy machine); a slow mutant run
  // must not pass for a timeout, which Stryker counts as killed.
  dryRunTimeoutMinutes: 30,
  timeoutMS: 20_000,
  // Not needed in the sandbox copy of the project.
  ignorePatterns: [
    "/data",
    "/bench",
    "/tmp",
    "/coverage",
    "/dist",
    "/test/cluster",
    "/test/mutation/*.json",
    "/reports",
    "/web/dist",
    "/sdk/dist",
    "/.stryker-tmp",
  ],
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { logTests: false, reportTests: false },
  // Below 95% overall the command fails; docs/testing.md has the last per-file scores.
  thresholds: { high: 95, low: 80, break: 95 },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
