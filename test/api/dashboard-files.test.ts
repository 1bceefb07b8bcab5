import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app";

// The dashboard's files at /dashboard, served by the edge from a built web/dist
// (here a small stand-in), with a strict Content-Security-Policy on every answer.

const dist = mkdtempSync(path.join(tmpdir(), "keyward-dist-"));
const INDEX =
  '<!doctype html><html><head><script type="module" src="/dashboard/assets/app-Bx12.js"></script></head><body><div id="root"></div></body></html>';
mkdirSync(path.join(dist, "assets"));
writeFileSync(path.join(dist, "index.html"), INDEX);
writeFileSync(path.join(dist, "assets", "app-Bx12.js"), "console.log('app');");
writeFileSync(path.join(dist, "assets", ".secret.js"), "hidden");
writeFileSync(path.join(dist, "..", "keyward-outside.json"), '{"outside":true}');

let app: TestApp;
let unbuilt: TestApp;
beforeAll(async () => {
  app = await startTestApp({}, { dashboardDir: dist });
  unbuilt = await startTestApp({}, { dashboardDir: path.join(dist, "missing") });
});
afterAll(async () => {
  await app.close();
  await unbuilt.close();
  rmSync(dist, { recursive: true, force: true });
  rmSync(path.join(dist, "..", "keyward-outside.json"), { force: true });
});

/** The node:http transport hands the edge the raw path, unnormalised: ask the edge directly. */
async function raw(requestPath: string) {
  return app.edge.handle({
    method: "GET",
    path: requestPath,
    search: "",
    headers: new Headers(),
    meta: { id: "test", startedAt: performance.now(), ip: null },
    base: "http://keyward.test",
    body: async () => new Uint8Array(),
  });
}

describe("GET /dashboard", () => {
  it("answers index.html with a CSP that allows no inline script and no framing", async () => {
    const response = await app.fetch("/dashboard");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(INDEX);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers a deep link (a page of the app) with index.html, so reloads work", async () => {
    for (const page of ["/dashboard/", "/dashboard/keys", "/dashboard/w/acme/keys"]) {
      const response = await app.fetch(page);
      expect(response.status, page).toBe(200);
      expect(await response.text()).toBe(INDEX);
    }
  });

  it("serves hashed assets with immutable caching and their own type", async () => {
    const response = await app.fetch("/dashboard/assets/app-Bx12.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await response.text()).toBe("console.log('app');");
  });

  it("a missing asset is a 404, never index.html run as a script", async () => {
    const response = await app.fetch("/dashboard/assets/app-gone.js");
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("<html");
  });

  it("attack: path traversal out of web/dist is refused", async () => {
    for (const attempt of [
      "/dashboard/../keyward-outside.json",
      "/dashboard/assets/../../keyward-outside.json",
      "/dashboard/assets/..%2f..%2fkeyward-outside.json",
      "/dashboard/assets/.secret.js",
      "/dashboard//etc/passwd.txt",
    ]) {
      const answer = await raw(attempt);
      expect(answer?.status, attempt).toBe(404);
      expect(answer?.body, attempt).not.toContain("outside");
      expect(answer?.body, attempt).not.toContain("hidden");
    }
  });

  it("when web/dist was never built, says to run npm run build", async () => {
    const response = await unbuilt.fetch("/dashboard/keys");
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("npm run build");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
  });

  it("does not take over other paths or writes", async () => {
    expect((await app.fetch("/dashboardx")).status).toBe(404);
    expect((await app.fetch("/dashboard", { method: "POST" })).status).toBe(404);
  });
});
