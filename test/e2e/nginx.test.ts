import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeHandler } from "../../server/http/node-handler";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { type Nginx, startNginx } from "../helpers/nginx";

// A real nginx in front of a tiny upstream, asking Keyward's /v1/authorize with
// auth_request — the configuration the README shows. Needs Debian's nginx
// (`apt-get install -y nginx`); without it this test fails, it is not skipped.

let app: TestApp;
let keyward: Server;
let upstream: Server;
let nginx: Nginx;
const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
const keys: Record<"valid" | "revoked" | "narrow" | "limited" | "lapsed", { id: string; secret: string }> = {} as never;

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
};

/** The server block of the README's nginx example, with this test's ports. */
const serverBlock = (keywardPort: number, upstreamPort: number) => (port: number) =>
  `
server {
  listen 127.0.0.1:${port};

  location / {
    auth_request /_keyward;
    auth_request_set $keyward_key_id $upstream_http_x_keyward_key_id;
    auth_request_set $keyward_workspace_id $upstream_http_x_keyward_workspace_id;
    auth_request_set $keyward_environment $upstream_http_x_keyward_environment;
    # nginx turns any auth answer but 2xx, 401 and 403 into 500: keep a 429 a 429, a 402 a 402.
    auth_request_set $keyward_status $upstream_status;
    auth_request_set $keyward_retry_after $upstream_http_retry_after;
    error_page 500 = @keyward_refused;

    proxy_set_header X-Keyward-Key-Id $keyward_key_id;
    proxy_set_header X-Keyward-Workspace-Id $keyward_workspace_id;
    proxy_set_header X-Keyward-Environment $keyward_environment;
    proxy_pass http://127.0.0.1:${upstreamPort};
  }

  location = /_keyward {
    internal;
    proxy_pass http://127.0.0.1:${keywardPort}/v1/authorize;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Keyward-Required-Scopes "service.forms.read";
  }

  location @keyward_refused {
    default_type application/json;
    if ($keyward_status = 429) {
      add_header Retry-After $keyward_retry_after always;
      return 429 '{"error":{"code":"rate_limit_exceeded"}}';
    }
    if ($keyward_status = 402) {
      return 402 '{"error":{"code":"service_inactive"}}';
    }
    return 500;
  }
}`;

beforeAll(async () => {
  app = await startTestApp();
  const node = createNodeHandler(app);
  keyward = createServer((req, res) => void node(req, res));
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"upstream":true}');
    });
  });
  nginx = await startNginx(serverBlock(await listen(keyward), await listen(upstream)));

  const owner = await signUpUser(app, "nginx-owner");
  const ws = (await owner.client.createWorkspace({ input: { name: "Edge", slug: `edge-${process.pid}` } }))
    .createWorkspace;
  await owner.client.createService({ input: { workspaceId: ws.id, slug: "forms", name: "Forms" } });
  const make = async (scopes: string[], limit = 1000, workspaceId = ws.id) => {
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId,
        name: "customer",
        type: "SECRET",
        environment: "LIVE",
        scopes,
        rateLimit: { limit, windowSeconds: 3600 },
      },
    });
    return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
  };
  keys.valid = await make(["service.forms.read"]);
  keys.revoked = await make(["service.forms.read"]);
  await owner.client.revokeApiKey({ input: { id: keys.revoked.id } });
  keys.narrow = await make(["keys:read"]);
  keys.limited = await make(["service.forms.read"], 1);
  // Another customer whose forms subscription lapsed.
  const lapsing = (await owner.client.createWorkspace({ input: { name: "Lapsed", slug: `lapsed-${process.pid}` } }))
    .createWorkspace;
  const { createService } = await owner.client.createService({
    input: { workspaceId: lapsing.id, slug: "forms", name: "Forms" },
  });
  keys.lapsed = await make(["service.forms.read"], 1000, lapsing.id);
  await owner.client.setServiceActive({ input: { id: createService.id, active: false } });
});

afterAll(async () => {
  await nginx?.stop();
  await Promise.all([keyward, upstream].map((s) => s && new Promise((resolve) => s.close(resolve))));
  await app?.close();
});

const through = (path: string, headers: Record<string, string>, init: RequestInit = {}) =>
  fetch(`${nginx.url}${path}`, { ...init, headers });

describe("nginx auth_request in front of an upstream", () => {
  it("a valid key reaches the upstream, which sees the key id nginx copied (not one the client forged)", async () => {
    const before = seen.length;
    const response = await through("/orders?page=2", {
      "x-api-key": keys.valid.secret,
      "x-keyward-key-id": "forged-by-the-client",
    });
    expect(response.status, nginx.errors()).toBe(200);
    expect(await response.json()).toEqual({ upstream: true });
    expect(seen.slice(before)).toHaveLength(1);
    expect(seen.at(-1)?.url).toBe("/orders?page=2");
    expect(seen.at(-1)?.headers["x-keyward-key-id"]).toBe(keys.valid.id);
    expect(seen.at(-1)?.headers["x-keyward-environment"]).toBe("LIVE");
    expect(seen.at(-1)?.headers["x-keyward-workspace-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a POST passes with its body intact for the upstream (the auth request reads none)", async () => {
    const response = await through(
      "/forms",
      { authorization: `Bearer ${keys.valid.secret}`, "content-type": "application/json" },
      { method: "POST", body: '{"name":"survey"}' },
    );
    expect(response.status, nginx.errors()).toBe(200);
    expect(seen.at(-1)).toMatchObject({ method: "POST", url: "/forms", body: '{"name":"survey"}' });
  });

  it("a revoked key gets 401 with the Bearer challenge, and the upstream never runs", async () => {
    const before = seen.length;
    const response = await through("/orders", { "x-api-key": keys.revoked.secret });
    expect(response.status, nginx.errors()).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="keyward"');
    expect(seen.length).toBe(before);
  });

  it("a key without the scope nginx requires gets 403, even when the client names an easier scope itself", async () => {
    const before = seen.length;
    const response = await through("/orders", {
      "x-api-key": keys.narrow.secret,
      "x-keyward-required-scopes": "keys:read",
    });
    expect(response.status, nginx.errors()).toBe(403);
    expect(seen.length).toBe(before);
  });

  it("a key whose forms subscription lapsed gets 402, and the upstream never runs", async () => {
    const before = seen.length;
    const response = await through("/orders", { "x-api-key": keys.lapsed.secret });
    expect(response.status, nginx.errors()).toBe(402);
    expect(await response.json()).toEqual({ error: { code: "service_inactive" } });
    expect(seen.length).toBe(before);
  });

  it("no key at all gets 401", async () => {
    expect((await through("/orders", {})).status).toBe(401);
  });

  it("a rate-limited key gets 429 with Retry-After once its one request is spent", async () => {
    const before = seen.length;
    expect((await through("/orders", { "x-api-key": keys.limited.secret })).status).toBe(200);
    const limited = await through("/orders", { "x-api-key": keys.limited.secret });
    expect(limited.status, nginx.errors()).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: { code: "rate_limit_exceeded" } });
    expect(seen.length).toBe(before + 1);
  });
});
