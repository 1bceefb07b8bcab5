import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient, KeywardError } from "@keyward/sdk";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../server/audit/log";
import { openDatabase } from "../../server/db";
import { buildDashboardIfNeeded, launchChromium, SCREENSHOTS, screenshot } from "../helpers/browser";
import { type ServerProcess, startServer } from "../helpers/processes";

// The audit log page as an owner meets it: server-side filters by action, actor and
// date, the hash chain's "verified" status, and that status turning to "broken" once
// a row is edited directly in the database. The embedded database belongs to one
// process at a time, so the test writes to it between two runs of the server.

const PASSWORD = "correct horse battery staple";
const OWNER = { name: "Olive Owner", email: "olive@audit.e2e.test" };
const ADMIN = { name: "Ada Admin", email: "ada@audit.e2e.test" };
const MEMBER = { name: "Max Member", email: "max@audit.e2e.test" };
const SLUG = "audit-rockets";
// Two events on earlier days (local time, as the date inputs are).
const JAN_15 = new Date(2026, 0, 15, 12);
const JAN_16 = new Date(2026, 0, 16, 12);

let dataDir: string;
let env: Record<string, string>;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let workspaceId = "";
const ids: Record<string, string> = {};
const problems: string[] = [];

/** The SDK against the running server (its port changes on each restart), as someone holding `token`. */
const client = (token?: string) =>
  createClient({ url: `${server.url}/graphql`, headers: token ? { authorization: `Bearer ${token}` } : {} });

async function signUp(person: { name: string; email: string }) {
  const { signUp } = await client().signUp({ input: { ...person, password: PASSWORD } });
  return { token: signUp.token, id: signUp.user.id };
}

/** Stops the server, lets `change` use its database, and starts it again on the same files. */
async function withServerStopped(change: (db: Awaited<ReturnType<typeof openDatabase>>["prisma"]) => Promise<void>) {
  server.process.kill("SIGTERM");
  await server.exited;
  const database = await openDatabase({ dataDir });
  try {
    await change(database.prisma);
  } finally {
    await database.close();
  }
  server = await startServer(env);
}

const rows = () => page.locator("table.audit tbody tr");
const actionsShown = async () => await page.locator("table.audit tbody td[data-label=Action] code").allTextContents();

async function showAudit() {
  await page.goto(`${server.url}/dashboard/w/${SLUG}/audit`);
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
}

beforeAll(async () => {
  buildDashboardIfNeeded();
  dataDir = mkdtempSync(path.join(tmpdir(), "keyward-e2e-audit-"));
  env = { KEYWARD_DATA_DIR: dataDir, KEYWARD_MASTER_KEY: randomBytes(32).toString("base64") };
  server = await startServer(env);
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(10_000);
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
  if (dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
});

describe("the audit log page in Chromium", () => {
  it("set-up: an owner signs up in the browser; an admin and a member join; each admin makes a key", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.getByRole("button", { name: "New here? Create an account" }).click();
    await page.getByLabel("Name").fill(OWNER.name);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Workspaces" }).waitFor();
    await page.getByLabel("Name").fill("Audit Rockets");
    await page.getByLabel("Slug").fill(SLUG);
    await page.getByRole("button", { name: "Create workspace" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();

    // The browser's session is a cookie no script reads; the API calls sign in afresh.
    const { signIn } = await client().signIn({ input: { email: OWNER.email, password: PASSWORD } });
    const owner = client(signIn.token);
    const admin = await signUp(ADMIN);
    const member = await signUp(MEMBER);
    Object.assign(ids, { owner: signIn.user.id, admin: admin.id, memberToken: member.token });
    const { me } = await owner.me();
    workspaceId = me?.memberships.find((m) => m.workspace.slug === SLUG)?.workspace.id ?? "";
    await owner.addMember({ input: { workspaceId, email: ADMIN.email, role: "ADMIN" } });
    await owner.addMember({ input: { workspaceId, email: MEMBER.email, role: "MEMBER" } });
    const key = (name: string) => ({ input: { workspaceId, name, type: "SECRET", environment: "TEST" } as const });
    await client(admin.token).createApiKey(key("Ada's key"));
    await owner.createApiKey(key("Olive's key"));
  });

  it("set-up: two events of earlier days, appended to the chain while the server is stopped", async () => {
    await withServerStopped(async (db) => {
      await db.$transaction((tx) =>
        recordAudit(
          tx,
          { type: "user", id: ids.owner ?? null, ip: null },
          { workspaceId, action: "workspace.leak_policy", targetType: "workspace", targetId: workspaceId },
          JAN_15,
        ),
      );
      await db.$transaction((tx) =>
        recordAudit(
          tx,
          { type: "user", id: ids.admin ?? null, ip: null },
          { workspaceId, action: "service.create", targetType: "service", targetId: null },
          JAN_16,
        ),
      );
    });
  });

  it("the owner sees the chain verified, with every event counted", async () => {
    await showAudit();
    const status = page.getByRole("status").filter({ hasText: "Verified" });
    await status.waitFor();
    expect(await status.textContent()).toContain("7 events checked at");
    await expect.poll(() => rows().count()).toBe(7);
    await expect.poll(() => page.locator("table.audit").textContent()).toContain(ADMIN.name);
    await screenshot(page, "audit-verified");
  });

  it("filters by action: only that action, counted over the whole log", async () => {
    await page.getByLabel("Action").selectOption("api_key.create");
    await expect.poll(actionsShown).toEqual(["api_key.create", "api_key.create"]);
    await page.getByText("2 matching events").waitFor();
  });

  it("filters by actor, and by actor and action together", async () => {
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect.poll(() => rows().count()).toBe(7);
    await page.getByLabel("Actor").selectOption({ label: ADMIN.name });
    await expect.poll(actionsShown).toEqual(["service.create", "api_key.create"]);
    await page.getByLabel("Action").selectOption("api_key.create");
    await expect.poll(actionsShown).toEqual(["api_key.create"]);
    await expect.poll(() => rows().textContent()).toContain(ADMIN.name);
    await screenshot(page, "audit-filtered");
  });

  it("filters by date: from and to are whole local days, both included", async () => {
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.getByLabel("From").fill("2026-01-15");
    await page.getByLabel("To (inclusive)").fill("2026-01-15");
    await expect.poll(actionsShown).toEqual(["workspace.leak_policy"]);
    await page.getByLabel("To (inclusive)").fill("2026-01-16");
    await expect.poll(actionsShown).toEqual(["service.create", "workspace.leak_policy"]);
    await page.getByLabel("To (inclusive)").fill("");
    await page.getByLabel("From").fill("2026-01-17");
    await expect.poll(() => rows().count()).toBe(5);
    expect(await actionsShown()).not.toContain("service.create");
    await page.getByLabel("Action").selectOption("service.create");
    await page.getByText("No event matches these filters.").waitFor();
  });

  it("after one row is edited in the database, the page says the chain is broken and names that event", async () => {
    let tampered = "";
    await withServerStopped(async (db) => {
      const row = await db.auditEvent.findFirstOrThrow({
        where: { workspaceId, action: "api_key.create", actorId: ids.admin ?? "" },
      });
      tampered = row.id;
      await db.$executeRawUnsafe("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete");
      await db.$executeRawUnsafe(
        `UPDATE audit_events SET data = '{"name":"nothing to see"}' WHERE id = $1::uuid`,
        row.id,
      );
      await db.$executeRawUnsafe("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete");
    });
    await showAudit();
    const alert = page.getByRole("alert").filter({ hasText: "Broken" });
    await alert.waitFor();
    const text = await alert.textContent();
    expect(text).toContain(tampered);
    expect(text).toContain("no longer matches its hash");
    expect(text).toContain("hash_mismatch");
    const marked = page.locator("table.audit tr.broken");
    await expect.poll(() => marked.count()).toBe(1);
    expect(await marked.textContent()).toContain("chain broken here");
    expect(await marked.textContent()).toContain("nothing to see");
    // Names arrive by a request of their own.
    await expect.poll(() => marked.textContent()).toContain(ADMIN.name);
    await screenshot(page, "audit-broken");
  });

  it("a MEMBER sees no audit log: no link, a refusal on the page, and the API refuses too", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const memberPage = await context.newPage();
    memberPage.setDefaultTimeout(10_000);
    await memberPage.goto(`${server.url}/dashboard`);
    await memberPage.getByLabel("Email").fill(MEMBER.email);
    await memberPage.getByLabel("Password").fill(PASSWORD);
    await memberPage.getByRole("button", { name: "Sign in", exact: true }).click();
    await memberPage.getByRole("heading", { name: "Workspaces" }).waitFor();
    await memberPage.goto(`${server.url}/dashboard/w/${SLUG}/audit`);
    await memberPage.getByText("Only owners and admins of Audit Rockets can read its audit log.").waitFor();
    expect(await memberPage.getByRole("link", { name: "Audit log" }).count()).toBe(0);
    expect(await memberPage.locator("table.audit").count()).toBe(0);
    expect(await memberPage.getByText(/Verified|Broken|hash chain/).count()).toBe(0);
    await screenshot(memberPage, "audit-member");
    await context.close();
    const asMember = client(ids.memberToken);
    for (const call of [
      asMember.auditChain({ workspaceId }),
      asMember.auditEvents({ workspaceId, action: "member.add" }),
    ]) {
      const refused: unknown = await call.then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(KeywardError);
      expect((refused as KeywardError).code).toBe("insufficient_permissions");
    }
  });

  it("logged no error on the way", () => {
    expect(problems).toEqual([]);
  });
});
