import { describe, expect, it } from "vitest";
import { startTestApp, TEST_IP } from "../helpers/app";
import { postJson } from "../helpers/rest-fixture";
import { describeRestRoutes, expectRestError } from "../helpers/rest-suite";
import { describeRestRequests } from "../helpers/rest-suite-requests";

// POST /v1/keys/verify and /v1/authorize through yoga.fetch: every verify code on
// both routes, equal to verifyApiKey's answer for the same key. The same suite
// runs through the real node:http handler in test/server/rest-node.test.ts.

const context = describeRestRoutes(async () => {
  const app = await startTestApp();
  return { app, http: { fetch: app.fetch, clientIp: TEST_IP }, close: () => app.close() };
});
describeRestRequests(context);

describe("through Yoga only", () => {
  it("an endless body streamed without Content-Length is cut off at 2 MiB as too large", async () => {
    const chunk = new TextEncoder().encode("x".repeat(512 * 1024));
    let sent = 0;
    // 512 MiB unless the reader gives up, as it must after 2 MiB.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 1024) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const init = { ...postJson("", context.fixture.owner.token), body, duplex: "half" } as RequestInit;
    const response = await context.app.fetch("/v1/keys/verify", init);
    const error = await expectRestError(response, "payload_too_large", "body");
    expect(error.error.message).toContain("exceeds");
    // The stream was cancelled rather than read to its end.
    expect(sent).toBeLessThan(20);
  });
});
