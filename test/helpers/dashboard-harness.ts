import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { buildDashboardIfNeeded, launchChromium, SCREENSHOTS } from "./browser";
import { type ServerProcess, startServer } from "./processes";

// What each of the dashboard's browser tests starts from: a real server process on a
// fresh embedded database, the built web app, Debian's Chromium with one page that
// records every URL it asks for and every error it logs, and requests made the way
// the dashboard makes them (session cookie plus CSRF header).

export const PASSWORD = "correct horse battery staple";
export const OWNER = { name: "Olive Owner", email: "olive@e2e.test" };
export const MEMBER = { name: "Max Member", email: "max@e2e.test" };
export const WORKSPACE = { name: "Acme Rockets", slug: "acme-rockets" };

const CSRF = { "x-graphql-yoga-csrf": "e2e" };

export interface Dashboard {
  server: ServerProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of every page opened here. */
  problems: string[];
  requestedUrls: string[];
  timings: Record<string, number>;
  close(): Promise<void>;
}

function watch(page: Page, dashboard: Pick<Dashboard, "problems" | "requestedUrls">): Page {
  // A step that cannot happen fails in seconds, not at the test timeout.
  page.setDefaultTimeout(10_000);
  page.on("request", (request) => dashboard.requestedUrls.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error") dashboard.problems.push(message.text());
  });
  page.on("pageerror", (error) => dashboard.problems.push(error.message));
  return page;
}

/** Starts the server (with `env` added) and Chromium at 1280 px; close() stops both. */
export async function openDashboard(env: Record<string, string> = {}): Promise<Dashboard> {
  buildDashboardIfNeeded();
  const dataDir = mkdtempSync(path.join(tmpdir(), "keyward-e2e-"));
  const server = await startServer({
    KEYWARD_DATA_DIR: dataDir,
    KEYWARD_MASTER_KEY: randomBytes(32).toString("base64"),
    ...env,
  });
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const recorded = { problems: [] as string[], requestedUrls: [] as string[] };
  const page = watch(await context.newPage(), recorded);
  console.log(`screenshots: ${SCREENSHOTS}`);
  const timings: Record<string, number> = {};
  return {
    server,
    browser,
    context,
    page,
    ...recorded,
    timings,
    async close() {
      await browser.close();
      server.kill();
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
      console.log(`flow timings (ms): ${JSON.stringify(timings)}`);
    },
  };
}

/** Runs one flow, recording how long it took under `flow`. */
export async function timed<T>(dashboard: Dashboard, flow: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    dashboard.timings[flow] = Math.round(performance.now() - started);
  }
}

/** Verifies a key through POST /v1/keys/verify, signed in by the owner's session cookie. */
export async function verifyKey(dashboard: Dashboard, key: string): Promise<{ valid: boolean; code: string }> {
  const response = await dashboard.context.request.post(`${dashboard.server.url}/v1/keys/verify`, {
    headers: CSRF,
    data: { key },
  });
  expect(response.status()).toBe(200);
  return (await response.json()) as { valid: boolean; code: string };
}

/** Everything the page keeps where a script or the address bar could find it again. */
export async function leftovers(dashboard: Dashboard): Promise<string> {
  const { page } = dashboard;
  const stored = await page.evaluate(() =>
    JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }),
  );
  return [await page.content(), stored, page.url(), ...dashboard.requestedUrls].join("\n");
}

/** A GraphQL request signed by the context's session cookie, as the dashboard's own are. */
export async function graphql<T = Record<string, unknown>>(
  context: BrowserContext,
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await context.request.post(`${url}/graphql`, { headers: CSRF, data: { query, variables } });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

/** Signs up (or in) through POST /dashboard/session: the context then holds the session cookie. */
export async function signInAs(
  context: BrowserContext,
  url: string,
  user: { name: string; email: string },
  action: "signUp" | "signIn" = "signUp",
): Promise<void> {
  const input = action === "signUp" ? { ...user, password: PASSWORD } : { email: user.email, password: PASSWORD };
  const response = await context.request.post(`${url}/dashboard/session`, { headers: CSRF, data: { action, input } });
  expect(response.status()).toBe(200);
}

/**
 * The owner's set-up, made through the API because another test shows it in the UI:
 * signed up, with a workspace. Answers the workspace's id.
 */
export async function ownerWithWorkspace(dashboard: Dashboard): Promise<string> {
  await signInAs(dashboard.context, dashboard.server.url, OWNER);
  const { createWorkspace } = await graphql<{ createWorkspace: { id: string } }>(
    dashboard.context,
    dashboard.server.url,
    "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
    { input: WORKSPACE },
  );
  return createWorkspace.id;
}

/**
 * MEMBER signs up and the owner adds them: answers a page of their own browser context
 * (their own cookie), recorded like the owner's.
 */
export async function memberPage(dashboard: Dashboard, workspaceId: string): Promise<Page> {
  const context = await dashboard.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await signInAs(context, dashboard.server.url, MEMBER);
  await graphql(
    dashboard.context,
    dashboard.server.url,
    "mutation($input: AddMemberInput!) { addMember(input: $input) { id } }",
    { input: { workspaceId, email: MEMBER.email, role: "MEMBER" } },
  );
  return watch(await context.newPage(), dashboard);
}

/** Takes the one console error a refusal the test provoked makes Chromium log (HTTP `status`) off the list. */
export async function expectedRefusal(dashboard: Dashboard, status: number): Promise<void> {
  const refusal = () => dashboard.problems.findIndex((problem) => problem.includes(`status of ${status}`));
  await expect.poll(refusal).toBeGreaterThanOrEqual(0);
  dashboard.problems.splice(refusal(), 1);
}
