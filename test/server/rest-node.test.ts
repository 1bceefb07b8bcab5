import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createNodeHandler } from "../../server/http/node-handler";
import { startTestApp } from "../helpers/app";
import { postChunked } from "../helpers/chunked";
import { CASE_NAMES } from "../helpers/rest-fixture";
import { describeRestRoutes, expectRestError } from "../helpers/rest-suite";
import { describeRestRequests } from "../helpers/rest-suite-requests";

// The plain-HTTP routes through the real node:http handler (the production path,
// server/index.ts): the same suite as test/api/rest-verify.test.ts, plus what only
// a socket shows — chunked bodies and many answers written in one burst.

let server: Server;
let url: string;

const context = describeRestRoutes(async () => {
  const app = await startTestApp();
  const node = createNodeHandler(app);
  server = createServer((req, res) => void node(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    http: { fetch: (path, init) => fetch(`${url}${path}`, init), clientIp: "127.0.0.1" },
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await app.close();
    },
  };
});
describeRestRequests(context);

describe("through node:http only", () => {
  it("a chunked body over 2 MiB (no Content-Length) is refused as too large", async () => {
    const { status, body } = await postChunked(`${url}/v1/keys/verify`, { head: '{"key":"', pieces: 5, tail: '"}' });
    const error = JSON.parse(body) as { error: { code: string; field: string; message: string } };
    expect({ status, ...error.error }).toMatchObject({ status: 413, code: "payload_too_large", field: "body" });
    expect(error.error.message).toContain("exceeds");
  });

  it("answers 200 concurrent requests on both routes, each with its own answer and request id", async () => {
    const { owner } = context.fixture;
    const cases = CASE_NAMES.map((name) => context.fixture.cases[name]);
    const pick = (i: number) => cases[i % cases.length];
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const c = pick(i);
        const id = `burst-${i}`;
        if (i % 2 === 0) {
          const response = await fetch(`${url}/v1/keys/verify`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}`, "x-request-id": id },
            body: JSON.stringify({
              key: c?.key,
              requiredScopes: c?.requiredScopes,
              origin: c?.origin,
              ip: "127.0.0.1",
            }),
          });
          return { id: response.headers.get("x-request-id"), code: ((await response.json()) as { code: string }).code };
        }
        const headers: Record<string, string> = { "x-api-key": c?.key ?? "", "x-request-id": id };
        if (c?.requiredScopes) headers["x-keyward-required-scopes"] = c.requiredScopes.join(" ");
        if (c?.origin) headers.origin = c.origin;
        const response = await fetch(`${url}/v1/authorize`, { headers });
        const code =
          response.status === 200 ? "VALID" : ((await response.json()) as { error: { code: string } }).error.code;
        return { id: response.headers.get("x-request-id"), code };
      }),
    );
    const expected = answers.map((_, i) => {
      const code = pick(i)?.code ?? "";
      // The key is the credential on /v1/authorize: an unknown one is invalid_api_key.
      return { id: `burst-${i}`, code: i % 2 === 1 && code === "not_found" ? "invalid_api_key" : code };
    });
    expect(answers).toEqual(expected);
  });

  it("leaves other paths to the GraphQL handler", async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await expectRestError(await fetch(`${url}/v1/authorize`), "authentication_required");
    expect((await fetch(`${url}/v1/authorized`)).status).toBe(404);
  });
});
