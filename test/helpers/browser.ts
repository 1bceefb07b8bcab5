import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

// Chromium for the dashboard's end-to-end test: Debian's own binary (.ci/run installs
// it), a fresh web/dist when the sources changed, and screenshots at the two widths
// the dashboard is made for.

const root = fileURLToPath(new URL("../../", import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = path.join(root, "reports", "screenshots");
export const WIDTHS = [1280, 390] as const;

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds web/dist unless it is newer than every source file of the dashboard and the SDK. */
export function buildDashboardIfNeeded(): void {
  const index = path.join(root, "web", "dist", "index.html");
  const sources = Math.max(
    newestIn(path.join(root, "web", "src")),
    newestIn(path.join(root, "sdk", "src")),
    statSync(path.join(root, "web", "index.html")).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  // NODE_ENV=test (vitest's) would make Vite bundle React's development build.
  execFileSync("npm", ["run", "build", "-w", "web"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  });
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium (.ci/run does).`);
  }
  // --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** Screenshots of the page as it is, at each width, as reports/screenshots/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize() ?? { width: 1280, height: 800 };
  const files: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    const file = path.join(SCREENSHOTS, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  await page.setViewportSize(original);
  return files;
}
