import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { screenshot } from "../helpers/browser";
import {
  type Dashboard,
  expectedRefusal,
  graphql,
  MEMBER,
  memberPage,
  OWNER,
  openDashboard,
  ownerWithWorkspace,
  signInAs,
  timed as timedIn,
  WORKSPACE,
} from "../helpers/dashboard-harness";

// The Members page in Chromium, on a server of its own: the owner changes a member's
// role (and the API reports it), is refused when demoting or removing the workspace's
// last OWNER (the catalog error, with its docUrl), removes a member after confirming;
// a MEMBER sees no controls, a MODERATOR the list without them, and an ADMIN none on
// an OWNER's row.

const REVIEWER = { name: "Rita Reviewer", email: "rita@e2e.test" };

let dashboard: Dashboard;
let page: Page;
let member: Page;
let workspaceId = "";
const membersUrl = () => `${dashboard.server.url}/dashboard/w/${WORKSPACE.slug}/members`;

const timed = <T>(flow: string, run: () => Promise<T>) => timedIn(dashboard, flow, run);
const dialog = () => page.getByRole("dialog");
const rows = (on: Page) => on.getByRole("list", { name: "Members" }).getByRole("listitem");
const row = (on: Page, name: string) => rows(on).filter({ hasText: name });

async function membersByApi(): Promise<Record<string, string>> {
  const { workspace } = await graphql<{ workspace: { members: { role: string; user: { email: string } }[] } }>(
    dashboard.context,
    dashboard.server.url,
    "query($id: ID!) { workspace(id: $id) { members { role user { email } } } }",
    { id: workspaceId },
  );
  return Object.fromEntries(workspace.members.map((m) => [m.user.email, m.role]));
}

async function setRoleByApi(email: string, role: string): Promise<void> {
  const { workspace } = await graphql<{ workspace: { members: { user: { id: string; email: string } }[] } }>(
    dashboard.context,
    dashboard.server.url,
    "query($id: ID!) { workspace(id: $id) { members { user { id email } } } }",
    { id: workspaceId },
  );
  const userId = workspace.members.find((m) => m.user.email === email)?.user.id;
  await graphql(
    dashboard.context,
    dashboard.server.url,
    "mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { id } }",
    { input: { workspaceId, userId, role } },
  );
}

beforeAll(async () => {
  dashboard = await openDashboard();
  ({ page } = dashboard);
  workspaceId = await ownerWithWorkspace(dashboard);
  member = await memberPage(dashboard, workspaceId);
  const reviewer = await dashboard.browser.newContext();
  await signInAs(reviewer, dashboard.server.url, REVIEWER);
  await reviewer.close();
  await graphql(
    dashboard.context,
    dashboard.server.url,
    "mutation($input: AddMemberInput!) { addMember(input: $input) { id } }",
    { input: { workspaceId, email: REVIEWER.email, role: "MODERATOR" } },
  );
});

afterAll(async () => {
  await dashboard?.close();
});

describe("the dashboard's Members page in Chromium", () => {
  it("a MEMBER reaching the page by its address sees the refusal and no role select or Remove button", async () => {
    await timed("member view", async () => {
      await member.goto(membersUrl());
      await member.getByRole("heading", { name: "Members" }).waitFor();
      await member.getByRole("alert").waitFor();
    });
    expect(await member.getByRole("alert").getByRole("link").getAttribute("href")).toMatch(
      /\/docs\/errors#insufficient_permissions$/,
    );
    await expectedRefusal(dashboard, 403);
    expect(await member.getByRole("link", { name: "Members", exact: true }).count()).toBe(0);
    // The header's workspace switcher is a select too: only the page's own count.
    expect(await member.getByRole("main").getByRole("combobox").count()).toBe(0);
    expect(await member.getByRole("button", { name: /^(Remove|Leave|Save|Add member)/ }).count()).toBe(0);
    await screenshot(member, "member-members");
  });

  it("the owner changes a member's role: the list reloads with it and the API reports it", async () => {
    await page.goto(membersUrl());
    await row(page, MEMBER.name).waitFor();
    expect(await rows(page).count()).toBe(3);
    const select = page.getByLabel(`Role of ${MEMBER.name}`, { exact: true });
    expect(await select.inputValue()).toBe("MEMBER");
    // An OWNER may give every role, OWNER included.
    expect(await select.locator("option").allTextContents()).toEqual(["OWNER", "ADMIN", "MODERATOR", "MEMBER"]);
    const save = page.getByRole("button", { name: `Save role of ${MEMBER.name}` });
    expect(await save.isDisabled()).toBe(true);
    await timed("change role", async () => {
      await select.selectOption("MODERATOR");
      await save.click();
      await expect.poll(() => save.isDisabled()).toBe(true);
    });
    expect(await select.inputValue()).toBe("MODERATOR");
    expect(await membersByApi()).toMatchObject({ [MEMBER.email]: "MODERATOR" });
    await screenshot(page, "members-manage");
  });

  it("a MODERATOR sees everyone and their roles but no role select or Remove button", async () => {
    await member.reload();
    await row(member, REVIEWER.name).waitFor();
    expect(await row(member, MEMBER.name).textContent()).toContain("MODERATOR");
    // The header's workspace switcher is a select too: only the page's own count.
    expect(await member.getByRole("main").getByRole("combobox").count()).toBe(0);
    expect(await member.getByRole("button", { name: /^(Remove|Leave|Save|Add member)/ }).count()).toBe(0);
    await screenshot(member, "member-members-moderator");
  });

  it("an ADMIN cannot touch an OWNER's row nor grant OWNER: no controls the server would refuse", async () => {
    await setRoleByApi(MEMBER.email, "ADMIN");
    await member.reload();
    await row(member, REVIEWER.name).waitFor();
    expect(await member.getByLabel(`Role of ${OWNER.name}`).count()).toBe(0);
    expect(await member.getByRole("button", { name: `Remove ${OWNER.name}` }).count()).toBe(0);
    const reviewer = member.getByLabel(`Role of ${REVIEWER.name}`, { exact: true });
    expect(await reviewer.locator("option").allTextContents()).toEqual(["ADMIN", "MODERATOR", "MEMBER"]);
    expect(await member.getByRole("button", { name: `Remove ${REVIEWER.name}` }).count()).toBe(1);
    await screenshot(member, "member-members-admin");
  });

  it("an ADMIN demoting themselves loses the controls at once, as the server now refuses them", async () => {
    const own = member.getByLabel(`Role of ${MEMBER.name}`, { exact: true });
    await own.selectOption("MODERATOR");
    await member.getByRole("button", { name: `Save role of ${MEMBER.name}` }).click();
    await expect.poll(() => member.getByRole("main").getByRole("combobox").count()).toBe(0);
    expect(await row(member, MEMBER.name).textContent()).toContain("MODERATOR");
    expect(await member.getByRole("button", { name: /^(Remove|Leave|Save|Add member)/ }).count()).toBe(0);
    // The header follows: a MODERATOR has no audit log.
    await expect.poll(() => member.getByRole("link", { name: "Audit log" }).count()).toBe(0);
    expect(await membersByApi()).toMatchObject({ [MEMBER.email]: "MODERATOR" });
  });

  it("an ADMIN leaving is told it is themselves, and lands on their workspaces without this one", async () => {
    await setRoleByApi(MEMBER.email, "ADMIN");
    await member.reload();
    await member.getByRole("button", { name: "Leave workspace" }).click();
    const leave = member.getByRole("dialog");
    await leave.getByRole("heading", { name: `Leave ${WORKSPACE.name}?` }).waitFor();
    expect(await leave.textContent()).toContain("You are removing yourself (ADMIN)");
    await leave.getByRole("button", { name: "Leave workspace" }).click();
    await member.getByRole("heading", { name: "Workspaces" }).waitFor();
    expect(new URL(member.url()).pathname).toBe("/dashboard/");
    expect(await member.getByRole("option", { name: WORKSPACE.name }).count()).toBe(0);
    expect(await membersByApi()).not.toHaveProperty([MEMBER.email]);
    await screenshot(member, "member-members-left");
  });

  it("demoting the workspace's last OWNER shows the catalog error and changes nothing", async () => {
    await page.reload();
    const select = page.getByLabel(`Role of ${OWNER.name}`, { exact: true });
    await select.selectOption("ADMIN");
    await page.getByRole("button", { name: `Save role of ${OWNER.name}` }).click();
    const alert = row(page, OWNER.name).getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("A workspace must keep at least one OWNER");
    expect(await alert.getByRole("link").getAttribute("href")).toMatch(/\/docs\/errors#validation_failed$/);
    await expectedRefusal(dashboard, 400);
    await screenshot(page, "members-error");
    expect(await membersByApi()).toMatchObject({ [OWNER.email]: "OWNER" });
  });

  it("leaving as the last OWNER is named as leaving in the dialog, and refused with the catalog error", async () => {
    await page.reload();
    await page.getByRole("button", { name: "Leave workspace" }).click();
    await dialog()
      .getByRole("heading", { name: `Leave ${WORKSPACE.name}?` })
      .waitFor();
    expect(await dialog().textContent()).toContain("You are removing yourself (OWNER)");
    await dialog().getByRole("button", { name: "Leave workspace" }).click();
    const alert = dialog().getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("A workspace must keep at least one OWNER");
    expect(await alert.getByRole("link").getAttribute("href")).toMatch(/\/docs\/errors#validation_failed$/);
    await expectedRefusal(dashboard, 400);
    await screenshot(page, "members-error-leave");
    await dialog().getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => dialog().count()).toBe(0);
    expect(await rows(page).count()).toBe(2);
  });

  it("removes a member after confirming: gone from the list and from the API", async () => {
    await page.getByRole("button", { name: `Remove ${REVIEWER.name}` }).click();
    await dialog()
      .getByRole("heading", { name: `Remove ${REVIEWER.name}?` })
      .waitFor();
    expect(await dialog().textContent()).toContain(`${REVIEWER.name} (${REVIEWER.email}) loses access`);
    await screenshot(page, "members-remove-confirm");
    // Cancelling removes nobody.
    await dialog().getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => dialog().count()).toBe(0);
    expect(await membersByApi()).toHaveProperty([REVIEWER.email]);
    await timed("remove member", async () => {
      await page.getByRole("button", { name: `Remove ${REVIEWER.name}` }).click();
      await dialog()
        .getByRole("button", { name: `Remove ${REVIEWER.name}` })
        .click();
      await expect.poll(() => dialog().count()).toBe(0);
      await expect.poll(() => row(page, REVIEWER.name).count()).toBe(0);
    });
    expect(await rows(page).count()).toBe(1);
    expect(await membersByApi()).toEqual({ [OWNER.email]: "OWNER" });
    await screenshot(page, "members-remove");
  });

  it("logged no error and no Content-Security-Policy violation on the way", async () => {
    await member.context().close();
    expect(dashboard.problems).toEqual([]);
  });
});
