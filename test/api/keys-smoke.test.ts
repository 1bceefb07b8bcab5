import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe("key lifecycle smoke", () => {
  it("creates, uses, rolls and revokes a key", async () => {
    const owner = await signUpUser(app, "owner");
    const { createWorkspace: ws } = await owner.client.createWorkspace({ input: { name: "Acme", slug: "acme-keys" } });
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId: ws.id,
        name: "backend",
        type: "SECRET",
        environment: "LIVE",
        scopes: ["keys:read", "keys:write"],
      },
    });
    expect(createApiKey.secret).toMatch(/^sk_live_/);
    const keyClient = app.client(createApiKey.secret);
    const listed = await keyClient.apiKeys({ workspaceId: ws.id, environment: "LIVE" });
    expect(listed.apiKeys.totalCount).toBe(1);
    await expectCode(keyClient.apiKeys({ workspaceId: ws.id, environment: "TEST" }), "insufficient_scope");
    const { rollApiKey } = await owner.client.rollApiKey({
      input: { id: createApiKey.apiKey.id, gracePeriodSeconds: 3600 },
    });
    await keyClient.apiKey({ id: rollApiKey.apiKey.id });
    app.clock.advance(3601_000);
    await expectCode(keyClient.apiKey({ id: rollApiKey.apiKey.id }), "key_expired");
    const newClient = app.client(rollApiKey.secret);
    await newClient.revokeApiKey({ input: { id: rollApiKey.apiKey.id, reason: "test" } });
    await expectCode(newClient.apiKey({ id: rollApiKey.apiKey.id }), "invalid_api_key");
    expect(app.logs.join("\n")).not.toContain(rollApiKey.secret);
  });
});
