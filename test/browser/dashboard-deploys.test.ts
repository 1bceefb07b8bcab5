import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { screenshot } from "../helpers/browser";
import {
  type Dashboard,
  expectedRefusal,
  graphql,
  memberPage,
  OWNER,
  openDashboard,
  ownerWithWorkspace,
  timed as timedIn,
  verifyKey,
  WORKSPACE,
} from "../helpers/dashboard-harness";

// Deploys and the audience tree in Chromium, on a server of its own: the owner turns
// deploys on, deploys a new key, rolls back to the version before it (and the key is
// refused again), builds an audience tree and renames a node; a MEMBER sees both pages'
// contents or refusals but none of their controls.

let dashboard: Dashboard;
let page: Page;
let workspaceId = "";
let reportingSecret = "";
const slug = WORKSPACE.slug;

const timed = <T>(flow: string, run: () => Promise<T>) => timedIn(dashboard, flow, run);
const verify = (key: string) => verifyKey(dashboard, key);
const dialog = () => page.getByRole("dialog");
const asOwner = (query: string, variables: Record<string, unknown>) =>
  graphql(dashboard.context, dashboard.server.url, query, variables);

beforeAll(async () => {
  dashboard = await openDashboard();
  ({ page } = dashboard);
  workspaceId = await ownerWithWorkspace(dashboard);
});

afterAll(async () => {
  await dashboard?.close();
});

describe("the dashboard's deploys and audiences in Chromium", () => {
  it("the owner opens their workspace", async () => {
    await page.goto(`${dashboard.server.url}/dashboard/w/${slug}/keys`);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
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
      const created = (await asOwner(
        "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
        {
          input: { workspaceId: workspace.id, name: "Reporting job", type: "SECRET", environment: "TEST" },
        },
      )) as { createApiKey: { secret: string } };
      reportingSecret = created.createApiKey.secret;
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByText("1 added, 0 changed, 0 removed since version 1").waitFor();
      expect(await page.locator("ul.changes li").textContent()).toContain("Reporting job");
      await screenshot(page, "deploys-pending");
      await page.getByLabel("Note").fill("Reporting goes live");
      await page.getByRole("button", { name: "Deploy", exact: true }).click();
      await page.locator("table.deployments tbody tr", { hasText: "Reporting goes live" }).waitFor();
      await page.getByText("Nothing to deploy").waitFor();
    });
    expect(page.url()).toBe(`${dashboard.server.url}/dashboard/w/${slug}/deploys`);
    const newest = await page.locator("table.deployments tbody tr").first().textContent();
    expect(newest).toContain("v2");
    expect(newest).toContain(OWNER.name);
    await screenshot(page, "deploys");
  });

  it("rolls back to an earlier version: the dialog names what is republished, the history shows the rollback", async () => {
    expect(await verify(reportingSecret)).toMatchObject({ valid: true });
    const rows = page.locator("table.deployments tbody tr");
    // The newest version is what verification answers from already: nothing to roll back to there.
    expect(await page.getByRole("button", { name: "Roll back to v2" }).count()).toBe(0);
    await timed("rollback", async () => {
      await page.getByRole("button", { name: "Roll back to v1" }).click();
      await dialog().getByRole("heading", { name: "Roll back to v1?" }).waitFor();
      const said = await dialog().textContent();
      expect(said).toContain("v1 holds 0 keys, with the key switch on.");
      expect(said).toContain("republished as v3");
      await dialog().getByLabel("Note").fill("Reporting paused");
      await screenshot(page, "deploys-rollback");
      await dialog().getByRole("button", { name: "Republish v1" }).click();
      await expect.poll(() => dialog().count()).toBe(0);
      await page.getByText("v3 republishes v1").waitFor();
      await rows.filter({ hasText: "Rollback to v1" }).waitFor();
    });
    const newest = await rows.first().textContent();
    expect(newest).toContain("v3");
    expect(newest).toContain("Rollback to v1");
    expect(newest).toContain("Reporting paused");
    expect(newest).toContain(OWNER.name);
    expect(await rows.count()).toBe(3);
    // Version 1 held no key: the reporting key is refused again, and waits to be deployed anew.
    expect(await verify(reportingSecret)).toMatchObject({ valid: false, code: "key_not_deployed" });
    await page.getByText("1 added, 0 changed, 0 removed since version 3").waitFor();
    expect(await page.getByRole("button", { name: "Roll back to v2" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Roll back to v3" }).count()).toBe(0);
    await screenshot(page, "deploys-rolled-back");
  });

  it("builds an audience tree: a child sits under its parent, and only a leaf can be deleted", async () => {
    await timed("audiences", async () => {
      await page.getByRole("link", { name: "Audiences" }).click();
      await page.getByText("No audiences yet.").waitFor();
      await page.getByLabel("Name", { exact: true }).fill("acme");
      await page.getByRole("button", { name: "Add audience" }).click();
      await page.getByRole("button", { name: "Delete acme" }).waitFor();
      await page.getByLabel("Name", { exact: true }).fill("acme-eu");
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
    await screenshot(page, "audiences-tree");
  });

  it("renames an audience in place: a taken name answers its catalog error, a free one renames it", async () => {
    await timed("audience rename", async () => {
      await page.getByRole("button", { name: "Rename acme-eu" }).click();
      const form = page.getByRole("form", { name: "Rename acme-eu" });
      const name = form.getByLabel("New name for acme-eu");
      // Focus goes to the name, selected, ready to type over.
      await expect.poll(() => name.evaluate((input) => input === document.activeElement)).toBe(true);
      await name.fill("acme");
      await form.getByRole("button", { name: "Save name" }).click();
      const alert = form.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toContain("already has an audience so named");
      expect(await alert.getByRole("link").getAttribute("href")).toMatch(/\/docs\/errors#validation_failed$/);
      await expectedRefusal(dashboard, 400);
      await screenshot(page, "audience-rename");
      await name.fill("acme-europe");
      await form.getByRole("button", { name: "Save name" }).click();
      await page.getByText("Renamed acme-eu to acme-europe.").waitFor();
    });
    const tree = page.getByRole("list", { name: "Audience tree" }).getByRole("listitem");
    expect(await tree.allTextContents()).toEqual([
      expect.stringContaining("acme"),
      expect.stringContaining("acme › acme-europe"),
    ]);
    expect(await page.getByRole("button", { name: "Rename acme-eu", exact: true }).count()).toBe(0);
    // Escape leaves a rename without one.
    await page.getByRole("button", { name: "Rename acme", exact: true }).click();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("form", { name: "Rename acme" }).count()).toBe(0);
    const { audiences } = (await asOwner("query($workspaceId: ID!) { audiences(workspaceId: $workspaceId) { name } }", {
      workspaceId,
    })) as { audiences: { name: string }[] };
    expect(audiences.map((a) => a.name)).toEqual(["acme", "acme-europe"]);
    await screenshot(page, "audiences");
  });

  it("a MEMBER sees the deploys and the tree but none of their controls", async () => {
    const member = await memberPage(dashboard, workspaceId);
    await timed("member view", async () => {
      await member.goto(`${dashboard.server.url}/dashboard/w/${slug}/deploys`);
      await member.getByText("does not see or publish key deployments").waitFor();
    });
    await expect.poll(() => member.getByRole("link", { name: "Deploys" }).count()).toBe(0);
    expect(await member.getByRole("button", { name: /^Roll back/ }).count()).toBe(0);
    await screenshot(member, "member-deploys");
    // The audience tree is readable by every member, but only admins change it.
    await member.getByRole("link", { name: "Audiences" }).click();
    await member.getByText("acme › acme-europe").first().waitFor();
    expect(await member.getByRole("button", { name: /^(Delete|Rename)/ }).count()).toBe(0);
    expect(await member.getByRole("button", { name: "Add audience" }).count()).toBe(0);
    await screenshot(member, "member-audiences");
    await member.context().close();
  });

  it("logged no error and no Content-Security-Policy violation on the way", () => {
    expect(dashboard.problems).toEqual([]);
  });
});
