import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeHandler } from "../../server/http/node-handler";
import { startTestApp, type TestApp } from "../helpers/app";

// `/` is where a person lands first: both transports (node:http, as `npm start` serves,
// and the Fetch handler) send it to the dashboard, through the edge.

let app: TestApp;
let server: Server;
let origin: string;

beforeAll(async () => {
  app = await startTestApp();
  const node = createNodeHandler(app);
  server = createServer((req, res) => void node(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await app.close();
});

const transports = {
  "node:http": (path: string, init: RequestInit) => fetch(`${origin}${path}`, { ...init, redirect: "manual" }),
  "the Fetch handler": (path: string, init: RequestInit) => app.fetch(path, init),
};

describe.each(Object.entries(transports))("/ through %s", (_name, send) => {
  it.each(["GET", "HEAD"])("%s / redirects to /dashboard", async (method) => {
    const response = await send("/", { method, headers: { accept: "text/html" } });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(response.headers.get("x-request-id")).toBeTruthy();
  });

  it("keeps the query string's mischief out: /?next=https://evil.example still goes to /dashboard only", async () => {
    const response = await send("/?next=https://evil.example", { method: "GET" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/dashboard");
  });

  it("a POST to / is not redirected (a form aimed at / cannot be bounced on)", async () => {
    const response = await send("/", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(response.status).toBe(404);
    expect(response.headers.get("location")).toBeNull();
  });
});
