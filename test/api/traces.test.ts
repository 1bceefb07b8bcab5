import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";

// OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT): a local OTLP/HTTP collector
// stub receives the spans the server exports — one per request, made at the edge,
// so the compiled GraphQL runner, Yoga and the plain-HTTP routes are all traced —
// with the route, status and operation name, and never a key or token.

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

let collector: Server;
const bodies: string[] = [];
let app: TestApp;

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") bodies.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(req.url === "/v1/traces" ? 200 : 404, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const { port } = collector.address() as AddressInfo;
  app = await startTestApp({
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_SERVICE_NAME: "keyward-test",
  });
});
let closed = false;
afterAll(async () => {
  if (!closed) await app.close();
  await new Promise((resolve) => collector.close(resolve));
});

const plain = (value: OtlpValue): unknown =>
  value.arrayValue
    ? value.arrayValue.values.map(plain)
    : (value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue)));

function received(): { service: unknown; name: string; kind: number; attributes: Record<string, unknown> }[] {
  return bodies.flatMap((text) =>
    (JSON.parse(text) as OtlpBody).resourceSpans.flatMap((resource) => {
      const service = plain(resource.resource.attributes.find((a) => a.key === "service.name")?.value ?? {});
      return resource.scopeSpans.flatMap((scope) =>
        scope.spans.map((span) => ({
          service,
          name: span.name,
          kind: span.kind,
          attributes: Object.fromEntries(span.attributes.map((a) => [a.key, plain(a.value)])),
        })),
      );
    }),
  );
}

describe("traces sent to an OTLP/HTTP collector", () => {
  it("one server span per request, on every path, with route, status and operation name and no secret", async () => {
    const person = await signUpUser(app, "traces");
    const { id: workspaceId } = (
      await person.client.createWorkspace({ input: { name: "Traces", slug: `traces-${process.pid}` } })
    ).createWorkspace;
    const { secret } = (
      await person.client.createApiKey({
        input: { workspaceId, name: "c", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
      })
    ).createApiKey;
    const verify = (accept: string) =>
      app.fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept, authorization: `Bearer ${person.token}` },
        body: JSON.stringify({
          query: "mutation TraceMe($input: VerifyApiKeyInput!) { verifyApiKey(input: $input) { code } }",
          variables: { input: { key: secret } },
        }),
      });
    expect((await verify("application/json")).status).toBe(200);
    // Left to Yoga by the edge (an event stream): traced all the same.
    expect(await (await verify("text/event-stream")).text()).toContain("VALID");
    const authorize = await app.fetch(`/v1/authorize/orders/${secret}?ref=${secret}`, {
      headers: { "x-api-key": secret },
    });
    expect(authorize.status).toBe(200);
    expect((await app.fetch(`/${secret}`)).status).toBe(404);
    const requestId = authorize.headers.get("x-request-id");

    // Closing flushes what the batch processor still holds.
    closed = true;
    await app.close();
    const spans = received();
    expect(spans.every((span) => span.service === "keyward-test" && span.kind === 2)).toBe(true);

    const traced = spans.filter((span) => span.attributes["graphql.operation.name"] === "TraceMe");
    expect(traced.map((span) => span.attributes)).toEqual([
      expect.objectContaining({
        "http.request.method": "POST",
        "http.route": "/graphql",
        "http.response.status_code": 200,
        "keyward.engine": "edge",
        "keyward.verification.codes": ["VALID"],
      }),
      expect.objectContaining({
        "http.route": "/graphql",
        "keyward.engine": "yoga",
        "keyward.verification.codes": ["VALID"],
      }),
    ]);
    expect(traced[0]?.name).toBe("POST /graphql");
    const gateway = spans.find((span) => span.attributes["keyward.request_id"] === requestId);
    expect(gateway).toMatchObject({
      name: "GET /v1/authorize",
      attributes: { "http.route": "/v1/authorize", "http.response.status_code": 200 },
    });
    expect(spans.find((span) => span.attributes["http.response.status_code"] === 404)?.attributes["http.route"]).toBe(
      "other",
    );

    const exported = bodies.join("\n");
    for (const leaked of [secret, secret.slice(0, 24), person.token, person.email]) {
      expect(exported).not.toContain(leaked);
    }
  });
});
