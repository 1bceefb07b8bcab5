import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEBHOOK_EVENTS } from "../../server/webhooks/events";
import { screenshot } from "../helpers/browser";
import {
  type Dashboard,
  expectedRefusal,
  graphql,
  leftovers as leftoversOf,
  memberPage,
  openDashboard,
  ownerWithWorkspace,
  timed as timedIn,
  WORKSPACE,
} from "../helpers/dashboard-harness";
import { type Receiver, startReceiver } from "../helpers/receiver";

// The webhooks page in Chromium, on a server of its own: an owner adds an endpoint that
// points at a receiver on loopback (the server runs with KEYWARD_WEBHOOK_ALLOW_PRIVATE),
// rotates its secret, pings it, redelivers, and deletes it; a MEMBER sees none of it.

let dashboard: Dashboard;
let page: Page;
let receiver: Receiver;
let receiverUrl = "";
let workspaceId = "";
const slug = WORKSPACE.slug;

const timed = <T>(flow: string, run: () => Promise<T>) => timedIn(dashboard, flow, run);
const leftovers = () => leftoversOf(dashboard);
const dialog = () => page.getByRole("dialog");
/** Each event's type, in the order the receiver got them. */
const received = () => receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type);

beforeAll(async () => {
  receiver = await startReceiver();
  receiver.answer.status = 204;
  receiver.answer.body = "";
  receiverUrl = `${receiver.url}/hooks`;
  dashboard = await openDashboard({
    // The receiver is on loopback, which endpoints may not use otherwise.
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
    KEYWARD_WEBHOOK_INTERVAL_MS: "200",
  });
  ({ page } = dashboard);
  workspaceId = await ownerWithWorkspace(dashboard);
});

afterAll(async () => {
  await dashboard?.close();
  await receiver?.close();
});

describe("the dashboard's webhooks page in Chromium", () => {
  it("the owner opens their workspace", async () => {
    await page.goto(`${dashboard.server.url}/dashboard/w/${slug}/keys`);
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  });

  it("adds a webhook endpoint: its signing secret is shown once, then is nowhere", async () => {
    let secret = "";
    await timed("webhook create", async () => {
      await page.getByRole("link", { name: "Webhooks" }).click();
      await page.getByText("No test endpoints yet.").waitFor();
      await page.getByRole("button", { name: "+ Add endpoint" }).click();
      // The checklist is the server's own event list (generated into the SDK), in its order.
      const offered = await dialog()
        .locator("input[name=events]")
        .evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).value));
      expect(offered).toEqual([...WEBHOOK_EVENTS]);
      // A URL the server refuses answers its catalog error, linked to the docs.
      await dialog().getByLabel("URL").fill("ftp://127.0.0.1/hooks");
      await dialog().getByRole("button", { name: "Add endpoint" }).click();
      await dialog().getByRole("alert").getByRole("link").waitFor();
      expect(await dialog().getByRole("alert").textContent()).toContain("http");
      // Chromium logs that refusal (HTTP 400) as a console error: the one expected, taken off the list.
      await expectedRefusal(dashboard, 400);
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
      await expect.poll(() => received().includes("ping"), { timeout: 10_000 }).toBe(true);
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
      const pings = received().filter((type) => type === "ping").length;
      await ping.getByRole("button", { name: "Redeliver" }).click();
      await expect.poll(() => received().filter((type) => type === "ping").length, { timeout: 10_000 }).toBe(pings + 1);
      await page.keyboard.press("Escape");
      await expect.poll(() => dialog().count()).toBe(0);
    });
  });

  it("deletes the endpoint after a confirmation: it disappears, and the API lists it no more", async () => {
    await timed("webhook delete", async () => {
      await page.getByRole("button", { name: `Delete ${receiverUrl}` }).click();
      await dialog().getByRole("heading", { name: "Delete this endpoint?" }).waitFor();
      expect(await dialog().textContent()).toContain(receiverUrl);
      // Cancel keeps it.
      await dialog().getByRole("button", { name: "Cancel" }).click();
      await expect.poll(() => dialog().count()).toBe(0);
      await page.getByText("Billing listener").waitFor();
      await page.getByRole("button", { name: `Delete ${receiverUrl}` }).click();
      await screenshot(page, "webhook-delete");
      await dialog().getByRole("button", { name: "Delete endpoint" }).click();
      await expect.poll(() => dialog().count()).toBe(0);
      await page.getByText(`Deleted ${receiverUrl}.`).waitFor();
      await page.getByText("No test endpoints yet.").waitFor();
    });
    expect(await page.getByText("Billing listener").count()).toBe(0);
    const { webhookEndpoints } = await graphql<{ webhookEndpoints: unknown[] }>(
      dashboard.context,
      dashboard.server.url,
      "query($workspaceId: ID!) { webhookEndpoints(workspaceId: $workspaceId, environment: TEST) { id } }",
      { workspaceId },
    );
    expect(webhookEndpoints).toEqual([]);
    await screenshot(page, "webhooks-deleted");
  });

  it("a MEMBER sees no webhook controls, not even by a deep link", async () => {
    // An endpoint to withhold: the member must not see it, nor its delete button.
    await graphql(
      dashboard.context,
      dashboard.server.url,
      "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }",
      { input: { workspaceId, environment: "TEST", url: receiverUrl, events: ["ping"] } },
    );
    const member = await memberPage(dashboard, workspaceId);
    await member.goto(`${dashboard.server.url}/dashboard/w/${slug}/webhooks`);
    await member.getByText("Only owners and admins").waitFor();
    await expect.poll(() => member.getByRole("link", { name: "Webhooks" }).count()).toBe(0);
    expect(await member.getByRole("button", { name: /^(Delete|\+ Add endpoint)/ }).count()).toBe(0);
    expect(await member.getByText(receiverUrl).count()).toBe(0);
    await screenshot(member, "member-webhooks");
    await member.context().close();
  });

  it("logged no error and no Content-Security-Policy violation on the way", () => {
    expect(dashboard.problems).toEqual([]);
  });
});
