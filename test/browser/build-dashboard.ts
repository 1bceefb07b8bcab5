import { buildDashboardIfNeeded } from "../helpers/browser";

// vitest.e2e.config.ts's globalSetup: one build of web/dist for every browser test file.
export default function setup(): void {
  buildDashboardIfNeeded();
}
