import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { createClient, type KeywardClient, VerifyApiKeyDocument } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeHandler } from "../../server/http/node-handler";
import { generateKey } from "../../server/keys/format";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { postChunked } from "../helpers/chunked";
import { expectCode } from "../helpers/expect-error";

// server/index.ts serves through createNodeHandler: persisted verifications take
// the fast path, everything else goes to Yoga. Both must answer exactly alike.

let app: TestApp;
let server: Server;
let url: string;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let workspaceId: string;
let verifier: string;
const keys: Record<string, string> = {};
/** What verifying each of `keys` answers. */
const EXPECTED_CODE: Record<string, string> = {
  valid: "VALID",
  revoked: "invalid_api_key",
  malformed: "invalid_key_format",
  unknown: "not_found",
};

const overHttp = (token?: string, headers?: Record<string, string>) =>
  createClient({ url: `${url}/graphql`, token, headers });

beforeAll(async () => {
  app = await startTestApp();
  const node = createNodeHandler(app);
  server = createServer((req, res) => void node(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  owner = await signUpUser(app, "owner");
  workspaceId = (await owner.client.createWorkspace({ input: { name: "Fast", slug: "fast-path" } })).createWorkspace.id;
  await owner.client.createService({ input: { workspaceId, slug: "forms", name: "Forms" } });
  const make = async (name: string, scopes: string[]) =>
    (
      await owner.client.createApiKey({
        input: {
          workspaceId,
          name,
          type: "SECRET",
          environment: "LIVE",
          scopes,
          rateLimit: { limit: 100_000, windowSeconds: 3600 },
        },
      })
    ).createApiKey;
  verifier = (await make("verifier", ["keys:verify"])).secret;
  keys.valid = (await make("valid", ["service.forms.read"])).secret;
  const revoked = await make("revoked", []);
  await owner.client.revokeApiKey({ input: { id: revoked.apiKey.id } });
  keys.revoked = revoked.secret;
  keys.unknown = generateKey("SECRET", "LIVE");
  keys.malformed = "sk_live_nope";
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await app.close();
});

/** The answer without the fields that differ per call (remaining count, reset time). */
function stable(result: { verifyApiKey: Record<string, unknown> }) {
  const { ratelimit, ...rest } = result.verifyApiKey;
  return { ...rest, ratelimit: ratelimit ? { limit: (ratelimit as { limit: number }).limit } : null };
}

describe("the node:http handler", () => {
  it.each(["valid", "revoked", "unknown", "malformed"])("answers a %s key exactly as Yoga does", async (which) => {
    const input = { key: keys[which] ?? "", requiredScopes: ["service.forms.read"] };
    const fast = await overHttp(verifier).verifyApiKey({ input });
    const viaYoga = await app.client(verifier).verifyApiKey({ input });
    expect(stable(fast)).toEqual(stable(viaYoga));
  });

  it("takes the fast path for the SDK's verify document (no Yoga response headers)", async () => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${verifier}` },
      body: JSON.stringify({ query: VerifyApiKeyDocument.toString(), variables: { input: { key: keys.valid } } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("transfer-encoding")).toBeNull();
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(0);
    expect(((await response.json()) as { data: { verifyApiKey: { code: string } } }).data.verifyApiKey.code).toBe(
      "VALID",
    );
  });

  it("leaves callers the shield refuses, and every other operation, to Yoga", async () => {
    await expectCode(overHttp().verifyApiKey({ input: { key: keys.valid ?? "" } }), "authentication_required");
    await expectCode(
      overHttp("Bearer-less garbage").verifyApiKey({ input: { key: keys.valid ?? "" } }),
      "authentication_required",
    );
    const publishable = (
      await owner.client.createApiKey({
        input: {
          workspaceId,
          name: "browser",
          type: "PUBLISHABLE",
          environment: "LIVE",
          scopes: ["keys:read"],
          allowedOrigins: ["https://app.example.com"],
        },
      })
    ).createApiKey.secret;
    await expectCode(
      overHttp(publishable, { origin: "https://app.example.com" }).verifyApiKey({ input: { key: keys.valid ?? "" } }),
      "publishable_key_write",
    );
    const me = await overHttp(owner.token).me();
    expect(me.me?.email).toBe(owner.email);
    const client: KeywardClient = overHttp(owner.token);
    expect((await client.workspace({ id: workspaceId })).workspace?.slug).toBe("fast-path");
  });

  it("reports bad variables on the fast path as catalog errors, in the general path's words once warm", async () => {
    // A verification document charges nothing, so once warm the edge lets execution
    // coerce its variables; a failure must still get the answer a cold document gets.
    const send = async (query: string, input: unknown) => {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${verifier}` },
        body: JSON.stringify({ query, variables: { input } }),
      });
      const body = (await response.json()) as {
        data?: { verifyApiKey: { valid: boolean } };
        errors?: { message: string; locations?: unknown; extensions: Record<string, unknown> }[];
      };
      return { status: response.status, body };
    };
    const shape = (answer: Awaited<ReturnType<typeof send>>) => ({
      status: answer.status,
      errors: answer.body.errors?.map((e) => ({ message: e.message, locations: e.locations, code: e.extensions.code })),
    });
    const warm = VerifyApiKeyDocument.toString();
    // A text the server has never seen: its variables are checked before anything runs.
    const cold = shape(await send(`${warm}\n# a new text`, { key: 42 }));
    expect(cold.status).toBe(400);
    expect(cold.errors?.[0]?.code).toBe("validation_failed");
    for (let i = 0; i < 3; i++) {
      expect((await send(warm, { key: keys.valid })).body.data?.verifyApiKey.valid).toBe(true);
      const bad = await send(warm, { key: 42 });
      expect(bad.body.errors?.[0]?.extensions.docUrl).toMatch(/\/docs\/errors#validation_failed$/);
      expect(shape(bad)).toEqual(cold);
    }
  });

  it("passes non-JSON bodies, GET routes and oversized bodies through with Yoga's answers", async () => {
    const bad = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{bad",
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
      "validation_failed",
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const big = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ me { id } }", padding: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
      "payload_too_large",
    );
  });

  it("refuses a body over 2 MiB sent without Content-Length (chunked) as too large", async () => {
    const { status, body } = await postChunked(`${url}/graphql`, {
      head: '{"query":"{ me { id } }","padding":"',
      pieces: 5,
      tail: '"}',
    });
    expect(status).toBe(413);
    const parsed = JSON.parse(body) as { errors: { message: string; extensions: { code: string; docUrl: string } }[] };
    expect(parsed.errors[0]?.extensions.code).toBe("payload_too_large");
    expect(parsed.errors[0]?.message).toContain("exceeds");
    expect(parsed.errors[0]?.extensions.docUrl).toBe(`${url}/docs/errors#payload_too_large`);
  });

  // Fast-path answers are written in one burst per event-loop turn (write-batch.ts):
  // each must still reach its own request, in order on a pipelined connection.
  it("answers pipelined verifications on one connection each with its own answer, in order", async () => {
    const order = ["revoked", "valid", "malformed", "unknown", "valid"];
    const requests = order.map((which, i) => {
      const body = JSON.stringify({
        query: VerifyApiKeyDocument.toString(),
        variables: { input: { key: keys[which] } },
      });
      return [
        "POST /graphql HTTP/1.1",
        `Host: ${new URL(url).host}`,
        "Content-Type: application/json",
        `Authorization: Bearer ${verifier}`,
        `X-Request-Id: pipelined-${i}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        "",
        body,
      ].join("\r\n");
    });
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), "127.0.0.1");
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
        if ((text.match(/HTTP\/1\.1 /g) ?? []).length === order.length && text.endsWith("}")) {
          socket.end();
          resolve(text);
        }
      });
      socket.on("error", reject);
      // All of them in one write: the server reads them in the same turn.
      socket.write(requests.join(""));
    });
    const answers = raw.split(/(?=HTTP\/1\.1 )/).map((part) => ({
      id: /x-request-id: (\S+)/i.exec(part)?.[1],
      code: /"code":"(\w+)"/.exec(part)?.[1],
    }));
    expect(answers).toEqual(order.map((which, i) => ({ id: `pipelined-${i}`, code: EXPECTED_CODE[which] })));
  });

  it("answers 200 concurrent verifications on separate connections each with its own answer", async () => {
    const kinds = ["valid", "revoked", "unknown", "malformed"];
    const which = (i: number) => kinds[i % kinds.length] ?? "valid";
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const response = await fetch(`${url}/graphql`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${verifier}`,
            "x-request-id": `concurrent-${i}`,
          },
          body: JSON.stringify({
            query: VerifyApiKeyDocument.toString(),
            variables: { input: { key: keys[which(i)] } },
          }),
        });
        const body = (await response.json()) as { data: { verifyApiKey: { code: string } } };
        return { id: response.headers.get("x-request-id"), code: body.data.verifyApiKey.code };
      }),
    );
    expect(results).toEqual(results.map((_, i) => ({ id: `concurrent-${i}`, code: EXPECTED_CODE[which(i)] })));
  });
});
