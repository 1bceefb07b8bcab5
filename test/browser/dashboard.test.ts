import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDashboardIfNeeded, launchChromium, SCREENSHOTS, screenshot } from "../helpers/browser";
import { type ServerProcess, startServer } from "../helpers/processes";

// The dashboard as a user meets it: a real server process on a fresh embedded
// database, the built web app, and Debian's Chromium. One story, in order: sign up,
// create a workspace, create a key (its secret shown once and then nowhere), verify it
// through the API, roll, revoke, switch keys off, then a MEMBER's view.

const PASSWORD = "correct horse battery staple";
const OWNER = { name: "Olive Owner", email: "olive@e2e.test" };
const MEMBER = { name: "Max Member", email: "max@e2e.test" };
const WORKSPACE = { name: "Acme Rockets", slug: "acme-rockets" };
const KEY_NAME = "Billing backend";

let dataDir: string;
let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requestedUrls: string[] = [];
const problems: string[] = [];
const timings: Record<string, number> = {};
let slug = "";
let firstSecret = "";
let receiver: Server;
let receiverUrl = "";
const received: string[] = [];
let rolledSecret = "";

async function timed<T>(flow: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    timings[flow] = Math.round(performance.now() - started);
  }
}

/** Verifies a key through POST /v1/keys/verify, signed in by the owner's session cookie. */
async function verify(key: string): Promise<{ valid: boolean; code: string }> {
  const cookie = (await context.cookies()).find((c) => c.name === "keyward_session");
  const response = await fetch(`${server.url}/v1/keys/verify`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-graphql-yoga-csrf": "e2e",
      cookie: `keyward_session=${cookie?.value ?? ""}`,
    },
    body: JSON.stringify({ key }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { valid: boolean; code: string };
}

/** A GraphQL request signed by the owner's session cookie, as the dashboard's own are. */
async function asOwner(query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const cookie = (await context.cookies()).find((c) => c.name === "keyward_session");
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-graphql-yoga-csrf": "e2e",
      cookie: `keyward_session=${cookie?.value ?? ""}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data ?? {};
}

/** Everything the page keeps where a script or the address bar could find it again. */
async function leftovers(): Promise<string> {
  const stored = await page.evaluate(() =>
    JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }),
  );
  return [await page.content(), stored, page.url(), ...requestedUrls].join("\n");
}

const dialog = () => page.getByRole("dialog");

beforeAll(async () => {
  buildDashboardIfNeeded();
  dataDir = mkdtempSync(path.join(tmpdir(), "keyward-e2e-"));
  // A webhook receiver on loopback: it answers 204 and remembers each event's type.
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      received.push((JSON.parse(body) as { type: string }).type);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  server = await startServer({
    KEYWARD_DATA_DIR: dataDir,
    KEYWARD_MASTER_KEY: randomBytes(32).toString("base64"),
    // The receiver above is on loopback, which endpoints may not use otherwise.
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
    KEYWARD_WEBHOOK_INTERVAL_MS: "200",
  });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  // A step that cannot happen fails in seconds, not at the test timeout.
  page.setDefaultTimeout(10_000);
  page.on("request", (request) => requestedUrls.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  console.log(`screenshots: ${SCREENSHOTS}`);
});

afterAll(async () => {
  await browser?.close();
  server?.kill();
  await server?.exited;
  receiver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  console.log(`flow timings (ms): ${JSON.stringify(timings)}`);
});

describe("the dashboard in Chromium", () => {
  it("signs up: the session is an HttpOnly cookie no script can read, nothing in storage", async () => {
    await timed("sign up", async () => {
      const response = await page.goto(`${server.url}/dashboard`);
      const csp = response?.headers()["content-security-policy"] ?? "";
      expect(csp).toContain("default-src 'self'");
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await screenshot(page, "sign-in");
      await page.getByRole("button", { name: "New here? Create an account" }).click();
      await page.getByLabel("Name").fill(OWNER.name);
      await page.getByLabel("Email").fill(OWNER.email);
      await page.getByLabel("Password").fill(PASSWORD);
      await screenshot(page, "sign-up");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "Workspaces" }).waitFor();
    });
    const cookie = (await context.cookies()).find((c) => c.name === "keyward_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookie?.value).toMatch(/^kws_/);
    const seen = await leftovers();
    expect(seen).not.toContain(cookie?.value);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
  });

  it("creates a workspace and lands on its empty keys page", async () => {
    await timed("create workspace", async () => {
      await screenshot(page, "workspaces-empty");
      await page.getByLabel("Name").fill(WORKSPACE.name);
      await page.getByLabel("Slug").fill(WORKSPACE.slug);
      await page.getByRole("button", { name: "Create workspace" }).click();
      await page.getByRole("heading", { name: "API keys" }).waitFor();
      await page.getByText("No test keys match").waitFor();
    });
    slug = WORKSPACE.slug;
    expect(page.url()).toBe(`${server.url}/dashboard/w/${slug}/keys`);
    await screenshot(page, "keys-empty");
  });

  it("the create dialog closes on Escape and gives focus back to the button that opened it", async () => {
    const open = page.getByRole("button", { name: "+ Create secret key" });
    await open.focus();
    await page.keyboard.press("Enter");
    await dialog().waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog().count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("+ Create secret key");
  });

  it("creates a key: the secret is shown once, then is nowhere in the page, storage or any URL", async () => {
    await timed("create key", async () => {
      await page.getByRole("button", { name: "+ Create secret key" }).click();
      const scopes = dialog().getByRole("checkbox");
      // An owner may grant every workspace scope.
      expect(await scopes.count()).toBe(10);
      await dialog().getByLabel("Name").fill(KEY_NAME);
      await dialog().getByRole("checkbox", { name: "keys:verify" }).check();
      await dialog().getByRole("checkbox", { name: "keys:read" }).check();
      await screenshot(page, "create-key");
      await dialog().getByRole("button", { name: "Create key" }).click();
      await dialog().getByText("You won't see it again").waitFor();
      firstSecret = await dialog().locator("input.secret").inputValue();
      expect(firstSecret).toMatch(/^sk_test_/);
      await screenshot(page, "secret-once");
      await dialog().getByRole("button", { name: "Done" }).click();
      await expect.poll(() => dialog().count()).toBe(0);
    });
    const rows = page.locator("table.keys tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(KEY_NAME);
    expect(await rows.first().textContent()).toContain("keys:read, keys:verify");
    expect(await rows.first().textContent()).toContain(firstSecret.slice(0, 12));
    expect(await leftovers()).not.toContain(firstSecret);
    await screenshot(page, "keys");
  });

  it("the key verifies through the API", async () => {
    const result = await timed("verify via API", () => verify(firstSecret));
    expect(result).toMatchObject({ valid: true, code: "VALID" });
  });

  it("rolls the key with a grace period: both values work, the new one shown once", async () => {
    await timed("roll", async () => {
      await page.getByRole("button", { name: `Roll ${KEY_NAME}` }).click();
      await dialog().getByLabel("The old key keeps working for").selectOption("3600");
      await screenshot(page, "roll");
      await dialog().getByRole("button", { name: "Roll key" }).click();
      await dialog().getByText("You won't see it again").waitFor();
      rolledSecret = await dialog().locator("input.secret").inputValue();
      await dialog().getByRole("button", { name: "Done" }).click();
    });
    expect(rolledSecret).toMatch(/^sk_test_/);
    expect(rolledSecret).not.toBe(firstSecret);
    await expect.poll(() => page.locator("table.keys tbody tr").count()).toBe(2);
    await expect.poll(() => page.locator(".badge", { hasText: "ROLLING" }).count()).toBe(1);
    expect(await verify(rolledSecret)).toMatchObject({ valid: true });
    expect(await verify(firstSecret)).toMatchObject({ valid: true });
    expect(await leftovers()).not.toContain(rolledSecret);
  });

  it("revokes the new key only after its name is typed back", async () => {
    await timed("revoke", async () => {
      const active = page.locator("table.keys tbody tr", { has: page.locator(".badge", { hasText: /^ACTIVE$/ }) });
      await active.getByRole("button", { name: `Revoke ${KEY_NAME}` }).click();
      const confirm = dialog().getByRole("button", { name: "Revoke key" });
      expect(await confirm.isDisabled()).toBe(true);
      await dialog()
        .getByLabel(/Type .* to confirm/)
        .fill("Billing");
      expect(await confirm.isDisabled()).toBe(true);
      await dialog()
        .getByLabel(/Type .* to confirm/)
        .fill(KEY_NAME);
      await screenshot(page, "revoke");
      await confirm.click();
      await expect.poll(() => dialog().count()).toBe(0);
      await expect.poll(() => page.locator(".badge", { hasText: "REVOKED" }).count()).toBe(1);
    });
    expect(await verify(rolledSecret)).toMatchObject({ valid: false, code: "invalid_api_key" });
  });

  it("switches the workspace's keys off, after a confirmation", async () => {
    await timed("keys off", async () => {
      await page.getByRole("switch", { name: "Enable keys" }).click();
      await dialog().getByRole("heading", { name: "Switch all keys off?" }).waitFor();
      await screenshot(page, "keys-off-confirm");
      await dialog().getByRole("button", { name: "Switch keys off" }).click();
      await page.getByText("Keys are switched off").waitFor();
    });
    expect(await page.getByRole("switch", { name: "Enable keys" }).isChecked()).toBe(false);
    expect(await verify(firstSecret)).toMatchObject({ valid: false, code: "keys_disabled" });
    await screenshot(page, "keys-off");
  });

  it("charts a key's requests per hour by outcome", async () => {
    // The usage recorder writes what it counted every 5 s.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    await timed("usage chart", async () => {
      const rolling = page.locator("table.keys tbody tr", { has: page.locator(".badge", { hasText: /^ROLLING$/ }) });
      await rolling.getByRole("button", { name: `Usage of ${KEY_NAME}` }).click();
      await dialog().locator("svg.recharts-surface").first().waitFor();
    });
    const caption = await dialog().locator("figcaption").textContent();
    // Two valid verifications (once created, once during the roll's grace), one refused while keys were off.
    expect(caption).toContain("VALID: 2");
    expect(caption).toContain("keys_disabled: 1");
    await screenshot(page, "usage");
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog().count()).toBe(0);
  });

  it("adds a service and switches it off", async () => {
    await timed("services", async () => {
      await page.getByRole("link", { name: "Services" }).click();
      await page.getByText("No services yet.").waitFor();
      await page.getByLabel("Name").fill("Forms");
      await page.getByLabel("Slug").fill("forms");
      await page.getByRole("button", { name: "Add service" }).click();
      const toggle = page.getByRole("switch", { name: /Forms/ });
      await toggle.waitFor();
      expect(await toggle.isChecked()).toBe(true);
      await toggle.click();
      await expect.poll(() => toggle.isChecked()).toBe(false);
    });
    expect(page.url()).toBe(`${server.url}/dashboard/w/${slug}/services`);
    await screenshot(page, "services");
  });

  it("the audit log shows the key's creation, to the owner", async () => {
    await timed("audit log", async () => {
      await page.getByRole("link", { name: "Audit log" }).click();
      await page.locator("table.audit tbody tr", { hasText: "api_key.create" }).first().waitFor();
    });
    expect(page.url()).toBe(`${server.url}/dashboard/w/${slug}/audit`);
    await page.getByLabel("Action").selectOption("api_key.create");
    await expect.poll(() => page.locator("table.audit tbody tr").count()).toBe(1);
    // The actor is the owner, by name (members are read by a request of their own, so wait for it).
    await expect.poll(() => page.locator("table.audit tbody tr").textContent()).toContain(OWNER.name);
    await screenshot(page, "audit");
  });

  it("adds a webhook endpoint: its signing secret is shown once, then is nowhere", async () => {
    let secret = "";
    await timed("webhook create", async () => {
      await page.getByRole("link", { name: "Webhooks" }).click();
      await page.getByText("No test endpoints yet.").waitFor();
      await page.getByRole("button", { name: "+ Add endpoint" }).click();
      // A URL the server refuses answers its catalog error, linked to the docs.
      await dialog().getByLabel("URL").fill("ftp://127.0.0.1/hooks");
      await dialog().getByRole("button", { name: "Add endpoint" }).click();
      await dialog().getByRole("alert").getByRole("link").waitFor();
      expect(await dialog().getByRole("alert").textContent()).toContain("http");
      // Chromium logs that refusal (HTTP 400) as a console error: the one expected, taken off the list.
      const refusal = () => problems.findIndex((problem) => problem.includes("status of 400"));
      await expect.poll(refusal).toBeGreaterThanOrEqual(0);
      problems.splice(refusal(), 1);
      await dialog().getByLabel("URL").fill(receiverUrl);
      await dialog().getByRole("checkbox", { name: "ping" }).check();
      await dialog().getByLabel("Description").fill("Billing listener");
      await screenshot(page, "webhook-create");
      await dialog().getByRole("button", { name: "Add endpoint" }).click();
      await dialog().getByText("You won't see it again").waitFor();
      secret = await dialog().locator("input.secret").inputValue();
      await screenshot(page, "webhook-secret");
      await dialog().getByRole("button", { name: "Done" }).click();
      await expect.poll(() => dialog().count()).toBe(0);
    });
    expect(secret).toMatch(/^whsec_/);
    await page.getByText("Billing listener").waitFor();
    expect(await leftovers()).not.toContain(secret);
    await screenshot(page, "webhooks");
  });

  it("rotates the endpoint's secret: a new one, shown once, the old one signing for 7 days", async () => {
    let rotated = "";
    await timed("webhook rotate", async () => {
      await page.getByRole("button", { name: `Rotate the secret of ${receiverUrl}` }).click();
      await dialog().getByText("For the next 7 days").waitFor();
      rotated = await dialog().locator("input.secret").inputValue();
      await screenshot(page, "webhook-rotated");
      await dialog().getByRole("button", { name: "Done" }).click();
    });
    expect(rotated).toMatch(/^whsec_/);
    await page.getByText("Old secret also signs until").waitFor();
    expect(await leftovers()).not.toContain(rotated);
    const enabled = page.getByRole("switch", { name: receiverUrl });
    await enabled.click();
    await expect.poll(() => enabled.isChecked()).toBe(false);
    await page.getByText("Disabled", { exact: true }).waitFor();
    await enabled.click();
    await expect.poll(() => enabled.isChecked()).toBe(true);
  });

  it("a test ping reaches the receiver and shows as a delivery, which can be sent again", async () => {
    await timed("webhook ping", async () => {
      await page.getByRole("button", { name: `Send a test ping to ${receiverUrl}` }).click();
      await page.getByText("Ping queued").waitFor();
      await expect.poll(() => received.includes("ping"), { timeout: 10_000 }).toBe(true);
      await page.getByRole("button", { name: `Deliveries to ${receiverUrl}` }).click();
      const ping = dialog().locator("li", { hasText: "ping" });
      await expect
        .poll(
          async () => {
            await dialog().getByRole("button", { name: "Refresh" }).click();
            return ping.locator(".badge").textContent();
          },
          { timeout: 10_000 },
        )
        .toBe("SUCCEEDED");
      expect(await ping.textContent()).toContain("HTTP 204");
      await screenshot(page, "webhook-deliveries");
      const pings = received.filter((type) => type === "ping").length;
      await ping.getByRole("button", { name: "Redeliver" }).click();
      await expect.poll(() => received.filter((type) => type === "ping").length, { timeout: 10_000 }).toBe(pings + 1);
      await page.keyboard.press("Escape");
      await expect.poll(() => dialog().count()).toBe(0);
    });
  });

  it("deploys appear once the workspace requires them: a new key waits as a pending change until deployed", async () => {
    await expect.poll(() => page.getByRole("link", { name: "Deploys" }).count()).toBe(0);
    const { workspace } = (await asOwner("query($slug: String) { workspace(slug: $slug) { id } }", { slug })) as {
      workspace: { id: string };
    };
    await asOwner("mutation($input: SetRequireDeployInput!) { setRequireDeploy(input: $input) { id } }", {
      input: { workspaceId: workspace.id, enabled: true },
    });
    await timed("deploys", async () => {
      await page.reload();
      await page.getByRole("link", { name: "Deploys" }).click();
      await page.getByText("Nothing to deploy").waitFor();
      await page.locator("table.deployments tbody tr", { hasText: "Deploys required" }).waitFor();
      await asOwner("mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }", {
        input: { workspaceId: workspace.id, name: "Reporting job", type: "SECRET", environment: "TEST" },
      });
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByText("1 added, 0 changed, 0 removed since version 1").waitFor();
      expect(await page.locator("ul.changes li").textContent()).toContain("Reporting job");
      await screenshot(page, "deploys-pending");
      await page.getByLabel("Note").fill("Reporting goes live");
      await page.getByRole("button", { name: "Deploy", exact: true }).click();
      await page.locator("table.deployments tbody tr", { hasText: "Reporting goes live" }).waitFor();
      await page.getByText("Nothing to deploy").waitFor();
    });
    expect(page.url()).toBe(`${server.url}/dashboard/w/${slug}/deploys`);
    const newest = await page.locator("table.deployments tbody tr").first().textContent();
    expect(newest).toContain("v2");
    expect(newest).toContain(OWNER.name);
    await screenshot(page, "deploys");
  });

  it("builds an audience tree: a child sits under its parent, and only a leaf can be deleted", async () => {
    await timed("audiences", async () => {
      await page.getByRole("link", { name: "Audiences" }).click();
      await page.getByText("No audiences yet.").waitFor();
      await page.getByLabel("Name").fill("acme");
      await page.getByRole("button", { name: "Add audience" }).click();
      await page.getByRole("button", { name: "Delete acme" }).waitFor();
      await page.getByLabel("Name").fill("acme-eu");
      await page.getByLabel("Parent").selectOption("acme");
      await page.getByRole("button", { name: "Add audience" }).click();
      await page.getByText("acme › acme-eu").first().waitFor();
    });
    const tree = page.getByRole("list", { name: "Audience tree" }).getByRole("listitem");
    expect(await tree.allTextContents()).toEqual([
      expect.stringContaining("acme"),
      expect.stringContaining("acme › acme-eu"),
    ]);
    // A parent has no delete button: the API refuses to delete an audience with children.
    expect(await page.getByRole("button", { name: "Delete acme", exact: true }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Delete acme-eu" }).count()).toBe(1);
    await screenshot(page, "audiences");
  });

  it("a MEMBER added on the members page sees the workspace but no key controls", async () => {
    await timed("member view", async () => {
      // The member signs up through the API, as someone else would in their own browser.
      const signUp = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }",
          variables: { input: { ...MEMBER, password: PASSWORD } },
        }),
      });
      expect(signUp.status).toBe(200);
      await page.getByRole("link", { name: "Members" }).click();
      await page.getByLabel("Email of someone who has signed up").fill(MEMBER.email);
      await page.getByLabel("Role").selectOption("MEMBER");
      await page.getByRole("button", { name: "Add member" }).click();
      await page.getByText(MEMBER.email).waitFor();
      await screenshot(page, "members");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      expect((await context.cookies()).find((c) => c.name === "keyward_session")).toBeUndefined();
      await page.getByLabel("Email").fill(MEMBER.email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { name: "Workspaces" }).waitFor();
      // A deep link, loaded afresh: the server answers it with the app.
      await page.goto(`${server.url}/dashboard/w/${slug}/keys`);
      await page.getByText("does not show or manage API keys").waitFor();
    });
    await expect.poll(() => page.getByRole("button", { name: "+ Create secret key" }).count()).toBe(0);
    await expect.poll(() => page.getByRole("switch").count()).toBe(0);
    await expect.poll(() => page.getByRole("link", { name: "Members" }).count()).toBe(0);
    await expect.poll(() => page.getByRole("link", { name: "Audit log" }).count()).toBe(0);
    await expect.poll(() => page.getByRole("link", { name: "Webhooks" }).count()).toBe(0);
    await expect.poll(() => page.getByRole("link", { name: "Deploys" }).count()).toBe(0);
    await expect.poll(() => page.getByRole("button", { name: /^(Roll|Revoke)/ }).count()).toBe(0);
    await screenshot(page, "member-keys");
    // The audience tree is readable by every member, but only admins change it.
    await page.getByRole("link", { name: "Audiences" }).click();
    await page.getByText("acme › acme-eu").first().waitFor();
    expect(await page.getByRole("button", { name: /^Delete/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Add audience" }).count()).toBe(0);
    await screenshot(page, "member-audiences");
  });

  it("logged no error and no Content-Security-Policy violation on the way", () => {
    expect(problems).toEqual([]);
  });
});
