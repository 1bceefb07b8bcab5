import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { screenshot } from "../helpers/browser";
import {
  type Dashboard,
  leftovers as leftoversOf,
  MEMBER,
  OWNER,
  openDashboard,
  PASSWORD,
  timed as timedIn,
  verifyKey,
  WORKSPACE,
} from "../helpers/dashboard-harness";
import type { ServerProcess } from "../helpers/processes";

// The dashboard as a user meets it: a real server process on a fresh embedded
// database, the built web app, and Debian's Chromium. One story, in order: sign up,
// create a workspace, create a key (its secret shown once and then nowhere), verify it
// through the API, roll, revoke, switch keys off, chart its usage, services, the audit
// log, then a MEMBER's view. Webhooks, deploys and audiences have files of their own
// (dashboard-webhooks, dashboard-deploys), each on its own server.

const KEY_NAME = "Billing backend";

let dashboard: Dashboard;
let server: ServerProcess;
let context: BrowserContext;
let page: Page;
let problems: string[];
let slug = "";
let firstSecret = "";
let rolledSecret = "";

const timed = <T>(flow: string, run: () => Promise<T>) => timedIn(dashboard, flow, run);

const verify = (key: string) => verifyKey(dashboard, key);
const leftovers = () => leftoversOf(dashboard);
const dialog = () => page.getByRole("dialog");

beforeAll(async () => {
  dashboard = await openDashboard();
  ({ server, context, page, problems } = dashboard);
});

afterAll(async () => {
  await dashboard?.close();
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
      // Every member's row has a "Role of …" select too: the new member's role is the add form's.
      await page.getByRole("form", { name: "Add a member" }).getByLabel("Role").selectOption("MEMBER");
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
    await expect.poll(() => page.getByRole("button", { name: /^(Roll|Revoke)/ }).count()).toBe(0);
    await screenshot(page, "member-keys");
  });

  it("logged no error and no Content-Security-Policy violation on the way", () => {
    expect(problems).toEqual([]);
  });
});
