import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

// Debian's Chromium, driven by playwright-core (which downloads no browser of its own).
// A missing Chromium fails the test: .ci/run installs it (`apt-get install chromium`).

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  // --no-sandbox: CI and these machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/**
 * Blocks every request that would leave the machine, in pages and their workers alike,
 * and records it: the returned list must stay empty for an offline-safe page.
 */
export async function offlineContext(browser: Browser): Promise<{ context: BrowserContext; external: string[] }> {
  const context = await browser.newContext();
  const external: string[] = [];
  await context.route("**", (route) => {
    const url = new URL(route.request().url());
    if (["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) return route.continue();
    external.push(url.href);
    return route.abort("blockedbyclient");
  });
  return { context, external };
}
