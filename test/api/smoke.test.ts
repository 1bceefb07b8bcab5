import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe("a person through the SDK", () => {
  it("signs up, creates a workspace, adds a member and sees the audit log", async () => {
    const owner = await signUpUser(app, "owner");
    const other = await signUpUser(app, "mod");
    const { createWorkspace: ws } = await owner.client.createWorkspace({ input: { name: "Acme", slug: "acme" } });
    expect(ws.viewerRole).toBe("OWNER");
    const { addMember } = await owner.client.addMember({
      input: { workspaceId: ws.id, email: other.email, role: "MODERATOR" },
    });
    expect(addMember.role).toBe("MODERATOR");
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id });
    expect(auditEvents.edges.map((e) => e.node.action)).toEqual(["member.add", "workspace.create"]);
    const err = await expectCode(other.client.auditEvents({ workspaceId: ws.id }), "insufficient_permissions");
    expect(err.status).toBe(403);
    expect(err.docUrl).toBe("http://keyward.test/docs/errors#insufficient_permissions");
  });
});
