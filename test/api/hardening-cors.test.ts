import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app";

// CORS reflected any Origin, `null` included, with credentials. Now no origin is
// answered unless KEYWARD_CORS_ORIGINS lists it, exactly, and never with credentials.

let prod: TestApp;
beforeAll(async () => {
  prod = await startTestApp({ NODE_ENV: "production" });
});
afterAll(() => prod.close());

describe("CORS", () => {
  const preflight = (app: TestApp, origin: string) =>
    app.fetch("/graphql", {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
  const simple = (app: TestApp, origin: string) =>
    app.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });

  it.each(["https://evil.example", "null", "http://localhost:3000"])(
    "allows no origin by default, not even %s",
    async (origin) => {
      for (const response of [await preflight(prod, origin), await simple(prod, origin)]) {
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
        expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      }
    },
  );

  describe("with KEYWARD_CORS_ORIGINS", () => {
    let cors: TestApp;
    const allowed = "https://app.example.com";
    beforeAll(async () => {
      cors = await startTestApp({
        NODE_ENV: "production",
        KEYWARD_CORS_ORIGINS: `${allowed},https://admin.example.com`,
      });
    });
    afterAll(() => cors.close());

    it("answers a listed origin exactly, without credentials", async () => {
      const pre = await preflight(cors, allowed);
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(allowed);
      expect(pre.headers.get("access-control-allow-headers")).toMatch(/authorization/);
      expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
      const response = await simple(cors, allowed);
      expect(response.headers.get("access-control-allow-origin")).toBe(allowed);
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      expect(response.headers.get("access-control-expose-headers")).toMatch(/x-request-id/);
    });

    it.each([
      "https://evil.example",
      "null",
      `${allowed}/`,
      "https://app.example.com.evil.example",
      "http://app.example.com",
    ])("gives %s nothing", async (origin) => {
      for (const response of [await preflight(cors, origin), await simple(cors, origin)]) {
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
        expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      }
    });
  });
});
