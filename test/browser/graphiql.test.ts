import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRAPHIQL_TITLE } from "../../server/graphiql";
import { createNodeHandler } from "../../server/http/node-handler";
import { startTestApp, type TestApp } from "../helpers/app";
import { launchChromium, offlineContext } from "../helpers/chromium";

// GraphiQL as someone on a closed network meets it: a real node:http Keyward, Debian's
// Chromium, and every request that would leave the machine aborted (and recorded).

let app: TestApp;
let server: Server;
let url: string;
let browser: Browser;
let context: BrowserContext;
let external: string[];
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  app = await startTestApp();
  const handler = createNodeHandler(app);
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  ({ context, external } = await offlineContext(browser));
  page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${url}/graphql`);
  // The query editor has rendered once Monaco has drawn its lines.
  await page.locator(".graphiql-query-editor .view-lines").first().waitFor({ timeout: 30_000 });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  await app?.close();
});

describe("GraphiQL, offline", () => {
  it("is titled Keyward GraphiQL, not a placeholder", async () => {
    expect(await page.title()).toBe(GRAPHIQL_TITLE);
    await expect.poll(() => page.locator("body").innerText()).not.toMatch(/__TITLE__|Loading/);
  });

  it("opens on two tabs: the signUp example first, createApiKey second", async () => {
    const tabs = page.locator(".graphiql-tab");
    await expect.poll(() => tabs.count()).toBe(2);
    expect((await tabs.nth(0).innerText()).trim()).toBe("SignUp");
    expect((await tabs.nth(1).innerText()).trim()).toBe("CreateWorkspace");
    const editor = await page.locator(".graphiql-query-editor .view-lines").first().innerText();
    expect(editor.replaceAll("\u00a0", " ")).toContain("signUp(input:");
  });

  it("runs the first tab: Run answers a signUp with a token and no errors", async () => {
    const answered = page.waitForResponse(
      (response) => response.url() === `${url}/graphql` && response.request().method() === "POST",
    );
    await page.locator(".graphiql-execute-button").click();
    const response = await answered;
    const body = (await response.json()) as { data?: { signUp?: { token: string; user: { email: string } } } };
    expect(body).not.toHaveProperty("errors");
    expect(body.data?.signUp?.token).toMatch(/^kws_/);
    expect(body.data?.signUp?.user.email).toBe("you@example.com");
    // The result pane shows it too.
    await expect.poll(() => page.locator(".graphiql-response").innerText()).toContain("kws_");
  });

  it("asked for nothing outside the machine and threw nothing", () => {
    expect(external).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
