import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../server/errors";
import { createNodeHandler } from "../../server/http/node-handler";
import { startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { attempt, installApp, type Packed, packSdk, remove, root, scratch } from "../helpers/sdk-package";

// The SDK as published: packed, installed into a fresh app outside the repo, then used
// the ways the SDK README promises — plain Node ESM and require() against a real
// Keyward, TypeScript with NodeNext and skipLibCheck off, and a browser bundle.

const fixtures = path.join(root, "test/sdk/app");
let app: TestApp;
let server: Server;
let graphqlUrl: string;
let packed: Packed;
let work: string;
let consumer: string;

beforeAll(async () => {
  const started = performance.now();
  const serving = (async () => {
    app = await startTestApp();
    const handler = createNodeHandler(app);
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    graphqlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  })();
  work = scratch();
  packed = await packSdk(work);
  consumer = await installApp(packed.tarball, fixtures, path.join(work, "app"));
  await serving;
  console.log(`packed ${packed.bytes} bytes and installed in ${Math.round(performance.now() - started)} ms`);
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  await app?.close();
  if (work) remove(work);
});

describe("the packed SDK", () => {
  it("ships built ESM, CommonJS and types, and nothing else", () => {
    for (const file of ["dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts"]) {
      expect(packed.files).toContain(file);
    }
    expect(packed.files.filter((f) => !f.startsWith("dist/")).sort()).toEqual(["README.md", "package.json"]);
    expect(packed.files.some((f) => f.startsWith("src/") || f.endsWith(".map"))).toBe(false);
  });

  it("runs in plain Node as ESM: signs up, makes a key and verifies it against a real server", async () => {
    const result = await attempt(process.execPath, ["backend.mjs", graphqlUrl], consumer);
    expect(result.code, result.output).toBe(0);
    const answer = JSON.parse(result.stdout) as {
      start: string;
      verify: { valid: boolean; code: string; scopes: string[] };
      refusal: { name: string; code: string; status: number };
    };
    expect(answer.start).toMatch(/^sk_live_/);
    expect(answer.verify).toMatchObject({ valid: true, code: "VALID", scopes: ["keys:verify"] });
    expect(answer.refusal).toEqual({ name: "KeywardError", code: "authentication_required", status: 401 });
  });

  it("loads with require() from CommonJS", async () => {
    const result = await attempt(process.execPath, ["legacy.cjs", graphqlUrl], consumer);
    expect(result.code, result.output).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      keywardError: true,
      code: "authentication_required",
      codes: Object.keys(catalog).length,
    });
  });

  it("type-checks with moduleResolution NodeNext and skipLibCheck false, and error codes switch exhaustively", async () => {
    const codes = Object.keys(catalog);
    const cases = (list: string[]) => list.map((code) => `    case "${code}":`).join("\n");
    const exhaustive = (name: string, list: string[], expectError: boolean) =>
      `export function ${name}(error: KeywardError): string {\n  const code = error.code;\n` +
      `  switch (code) {\n${cases(list)}\n      return code;\n` +
      `    default: {\n${expectError ? "      // @ts-expect-error a code is left unhandled\n" : ""}` +
      `      const unhandled: never = code;\n      return unhandled;\n    }\n  }\n}\n`;
    writeFileSync(
      path.join(consumer, "exhaustive.ts"),
      `import type { KeywardError } from "@keyward/sdk";\n\n` +
        exhaustive("every", [...codes, "INTERNAL_SERVER_ERROR", "network_error"], false) +
        exhaustive("missingOne", [...codes.slice(1), "INTERNAL_SERVER_ERROR", "network_error"], true),
    );
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    const result = await attempt(process.execPath, [tsc, "-p", "tsconfig.json"], consumer);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });

  it("bundles for the browser without Node built-ins, and the bundle talks to a real server", async () => {
    const outfile = path.join(consumer, "out/browser.js");
    const result = await build({
      entryPoints: [path.join(consumer, "browser.ts")],
      absWorkingDir: consumer,
      bundle: true,
      platform: "browser",
      format: "esm",
      outfile,
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const bundle = (await import(outfile)) as { signUp(url: string, email: string): Promise<string> };
    const email = uniqueEmail("browser");
    expect(await bundle.signUp(graphqlUrl, email)).toBe(email);
  });
});
