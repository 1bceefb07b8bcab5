import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeHandler } from "../../server/http/node-handler";
import { startTestApp, type TestApp } from "../helpers/app";
import { type AudienceTenant, ORIGIN, seconds, seedAudienceTenant, sign } from "../helpers/audience";

// Audience tokens through the real node:http handler (the production transport):
// the token header and body field are read there as in process, and /v1/authorize's
// audience headers reach the socket.

let app: TestApp;
let server: Server;
let url: string;
let t: AudienceTenant;

beforeAll(async () => {
  app = await startTestApp();
  const node = createNodeHandler(app);
  server = createServer((req, res) => void node(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await seedAudienceTenant(app, "aud-node", [
    ["enterprise", null],
    ["enterprise_b", "enterprise"],
  ]);
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await app.close();
});

const token = (secret: string) => sign(secret, { audience: "enterprise_b", iat: seconds(app), exp: seconds(app, 600) });

const authorize = async (tokenValue: string | null) =>
  fetch(`${url}/v1/authorize`, {
    headers: {
      "x-api-key": t.pk.secret,
      origin: ORIGIN,
      ...(tokenValue === null ? {} : { "x-keyward-audience-token": tokenValue }),
    },
  });

describe("over node:http", () => {
  it("GET /v1/authorize answers the audience headers for a signed token, 401 for a forged one", async () => {
    const ok = await authorize(await token(t.signer.secret));
    expect(ok.status).toBe(200);
    expect([ok.headers.get("x-keyward-audience"), ok.headers.get("x-keyward-audience-path")]).toEqual([
      "enterprise_b",
      "enterprise_b,enterprise",
    ]);
    const forged = await authorize(await token(t.plain.secret));
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("invalid_audience_token");
    expect(forged.headers.get("x-keyward-audience")).toBeNull();
  });

  it("POST /v1/keys/verify reads the token field", async () => {
    const ask = async (secret: string) => {
      const response = await fetch(`${url}/v1/keys/verify`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${t.owner.token}` },
        body: JSON.stringify({ key: t.pk.secret, origin: ORIGIN, token: await token(secret) }),
      });
      return (await response.json()) as { code: string; audiencePath: string[] | null };
    };
    expect(await ask(t.signer.secret)).toMatchObject({ code: "VALID", audiencePath: ["enterprise_b", "enterprise"] });
    expect(await ask(t.plain.secret)).toMatchObject({ code: "invalid_audience_token", audiencePath: null });
  });

  it("requireAudienceToken refuses a publishable key without a token with 403", async () => {
    await t.owner.client.setRequireAudienceToken({ input: { workspaceId: t.workspaceId, required: true } });
    const refused = await authorize(null);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("audience_token_required");
  });
});
