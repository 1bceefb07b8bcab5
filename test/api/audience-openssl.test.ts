import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app";
import { type AudienceTenant, seedAudienceTenant, TRANSPORTS, verifyThrough } from "../helpers/audience";

// The README's two ways of signing an audience token, run exactly as printed: the
// shell recipe with the machine's openssl, and the Node example with jose. Each
// token must verify on every path. .ci/run installs openssl from Debian; without
// it this fails rather than skips.

const readme = readFileSync(path.resolve(import.meta.dirname, "../../README.md"), "utf8");

function block(language: string, containing: string): string {
  const found = [...readme.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))]
    .map((match) => match[1] ?? "")
    .find((text) => text.includes(containing));
  if (!found) throw new Error(`README has no ${language} block with ${containing}`);
  return found;
}

let app: TestApp;
let t: AudienceTenant;

beforeAll(async () => {
  app = await startTestApp();
  t = await seedAudienceTenant(app, "aud-readme", [
    ["enterprise", null],
    ["enterprise_b", "enterprise"],
  ]);
});
afterAll(() => app.close());

/** Runs a README recipe with the signing key in its environment; the token is its last line. */
function run(file: string, args: string[], script: string): string {
  const env = { PATH: process.env.PATH ?? "", SK: t.signer.secret, KID: t.signer.id, AUDIENCE: "enterprise_b" };
  const out = execFileSync(file, [...args, script], {
    env: { ...env, KEYWARD_SIGNER_SECRET: t.signer.secret, KEYWARD_SIGNER_ID: t.signer.id },
    encoding: "utf8",
  });
  return out.trim().split("\n").at(-1) ?? "";
}

async function expectVerifies(token: string) {
  // The recipes read the real clock.
  app.clock.now = new Date();
  for (const transport of TRANSPORTS) {
    const answer = await verifyThrough(app, transport, { key: t.pk.secret, token, verifier: t.owner.token });
    expect(answer, transport).toMatchObject({
      code: "VALID",
      audience: "enterprise_b",
      audiencePath: ["enterprise_b", "enterprise"],
    });
  }
}

describe("the README's signing recipes make tokens that verify", () => {
  it("the shell recipe with openssl", async () => {
    const token = run("sh", ["-c"], block("sh", "openssl dgst"));
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await expectVerifies(token);
  });

  it("the Node example with jose", async () => {
    const example = block("ts", "new SignJWT").replace(
      'from "jose"',
      `from ${JSON.stringify(import.meta.resolve("jose"))}`,
    );
    const token = run(process.execPath, ["--input-type=module", "-e"], `${example}\nconsole.log(token);`);
    await expectVerifies(token);
  });
});
