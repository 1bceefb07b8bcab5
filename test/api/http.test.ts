import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../server/errors";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";

// Raw HTTP through yoga.fetch: the routes beside /graphql and the shape of every
// error, including the ones the SDK cannot provoke (bad JSON, odd headers, huge bodies).

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

interface ErrorBody {
  message: string;
  extensions?: {
    code?: string;
    docUrl?: string;
    requestId?: string;
    field?: string;
    http?: { status?: number };
  } & Record<string, unknown>;
}
interface GraphQLBody {
  data?: unknown;
  errors?: ErrorBody[];
}

const DOCS = "http://keyward.test/docs/errors#";

function post(target: TestApp, body: string, headers: Record<string, string> = {}) {
  return target.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
    body,
  });
}

const gql = (target: TestApp, query: string, variables?: unknown, headers?: Record<string, string>) =>
  post(target, JSON.stringify({ query, variables }), headers);

/** Reads a GraphQL error response; internals such as the original exception never leave the server. */
async function readBody(response: Response): Promise<{ text: string; body: GraphQLBody; errors: ErrorBody[] }> {
  const text = await response.text();
  const body = JSON.parse(text) as GraphQLBody;
  const errors = body.errors ?? [];
  expect(errors.length, text).toBeGreaterThan(0);
  expect(text).not.toContain("originalError");
  expect(text).not.toContain("stacktrace");
  return { text, body, errors };
}

/** Every error carries extensions { code, docUrl, http: { status } } (DESIGN.md, "Errors"). */
function expectErrorShape(errors: ErrorBody[]) {
  for (const error of errors) {
    const ext = error.extensions;
    const seen = JSON.stringify(error);
    expect(ext?.code, seen).toEqual(expect.any(String));
    expect(ext?.docUrl, seen).toEqual(expect.any(String));
    expect(ext?.http?.status, seen).toEqual(expect.any(Number));
  }
}

async function readErrors(response: Response) {
  const result = await readBody(response);
  expectErrorShape(result.errors);
  return result;
}

async function expectValidationFailed(response: Response) {
  expect(response.status).toBe(400);
  const result = await readErrors(response);
  const ext = result.errors[0]?.extensions;
  expect(ext).toMatchObject({ code: "validation_failed", http: { status: 400 } });
  expect(ext?.docUrl).toBe(`${DOCS}validation_failed`);
  return result;
}

describe("health routes", () => {
  it("/healthz answers 200", async () => {
    const response = await app.fetch("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("/readyz answers 200 while the database is up", async () => {
    const response = await app.fetch("/readyz");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ready", database: "up" });
  });
});

describe("/docs/errors", () => {
  it("is HTML with an anchor for every code of the catalog", async () => {
    const response = await app.fetch("/docs/errors");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    const codes = Object.keys(catalog);
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes) {
      expect(html, code).toMatch(new RegExp(`<[a-z0-9]+\\s[^>]*id="${code}"`));
    }
  });
});

describe("malformed requests answer validation_failed (400)", () => {
  it("a body that is not JSON", async () => {
    const response = await post(app, "{ this is not json");
    const { errors } = await expectValidationFailed(response);
    expect(errors[0]?.extensions?.docUrl?.endsWith("/docs/errors#validation_failed")).toBe(true);
  });

  it("a GraphQL syntax error", async () => {
    await expectValidationFailed(await gql(app, "{ me { id "));
  });

  it("an unknown field", async () => {
    await expectValidationFailed(await gql(app, "{ me { id shoeSize } }"));
  });

  it("a request without a query", async () => {
    await expectValidationFailed(await post(app, JSON.stringify({ variables: {} })));
  });

  it("several errors at once, each in the catalog shape", async () => {
    const response = await gql(app, "{ nope1 nope2 me { nope3 } }");
    const { errors } = await expectValidationFailed(response);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    for (const error of errors) expect(error.extensions?.code).toBe("validation_failed");
  });

  it("an unknown Role in addMember, as a variable and as a literal", async () => {
    const owner = await signUpUser(app, "owner");
    const member = await signUpUser(app, "member");
    const { createWorkspace } = await owner.client.createWorkspace({ input: { name: "Enum", slug: "enum-ws" } });
    const auth = { authorization: `Bearer ${owner.token}` };
    const asVariable = await gql(
      app,
      "mutation($input: AddMemberInput!) { addMember(input: $input) { role } }",
      { input: { workspaceId: createWorkspace.id, email: member.email, role: "SUPERUSER" } },
      auth,
    );
    await expectValidationFailed(asVariable);
    const asLiteral = await gql(
      app,
      `mutation { addMember(input: { workspaceId: "${createWorkspace.id}", email: "${member.email}", role: SUPERUSER }) { role } }`,
      undefined,
      auth,
    );
    await expectValidationFailed(asLiteral);
    expect(await app.db.membership.count({ where: { workspaceId: createWorkspace.id } })).toBe(1);
  });
});

describe("a body over 2 MiB answers payload_too_large (413)", () => {
  it("announced by its Content-Length", async () => {
    const size = 2 * 1024 * 1024 + 16;
    const query = `{ me { id } } #${"x".repeat(size)}`;
    const body = JSON.stringify({ query });
    const response = await post(app, body, { "content-length": String(Buffer.byteLength(body)) });
    expect(response.status).toBe(413);
    const { errors } = await readErrors(response);
    expect(errors[0]?.extensions).toMatchObject({ code: "payload_too_large", http: { status: 413 } });
  });

  it("links to the same absolute docUrl as every other error", async () => {
    const body = JSON.stringify({ query: `{ me { id } } #${"x".repeat(2 * 1024 * 1024)}` });
    const response = await post(app, body, { "content-length": String(Buffer.byteLength(body)) });
    const { errors } = await readErrors(response);
    expect(errors[0]?.extensions?.docUrl).toBe(`${DOCS}payload_too_large`);
  });
});

describe("errors from resolvers", () => {
  it("carry code, docUrl and http.status, and set the HTTP status", async () => {
    const response = await gql(app, 'mutation { createWorkspace(input: { name: "A", slug: "aaa" }) { id } }');
    expect(response.status).toBe(401);
    const { errors } = await readErrors(response);
    expect(errors[0]?.extensions).toMatchObject({
      code: "authentication_required",
      docUrl: `${DOCS}authentication_required`,
      http: { status: 401 },
    });
  });

  it("validation errors name the field", async () => {
    const response = await gql(app, "mutation($input: SignUpInput!) { signUp(input: $input) { token } }", {
      input: { email: "nope", password: PASSWORD, name: "X" },
    });
    const { errors } = await expectValidationFailed(response);
    expect(errors[0]?.extensions?.field).toBe("email");
  });
});

describe("X-Request-Id", () => {
  it("is set on every response", async () => {
    for (const response of [
      await app.fetch("/healthz"),
      await gql(app, "{ me { id } }"),
      await post(app, "not json"),
      await app.fetch("/docs/errors"),
    ]) {
      expect(response.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    }
    const a = (await gql(app, "{ me { id } }")).headers.get("x-request-id");
    const b = (await gql(app, "{ me { id } }")).headers.get("x-request-id");
    expect(a).not.toBe(b);
  });

  it("echoes a valid incoming X-Request-Id", async () => {
    const response = await gql(app, "{ me { id } }", undefined, { "x-request-id": "trace-abc.123_XYZ" });
    expect(response.headers.get("x-request-id")).toBe("trace-abc.123_XYZ");
    const logged = app.logs.some(
      (line) => (JSON.parse(line) as { requestId?: string }).requestId === "trace-abc.123_XYZ",
    );
    expect(logged).toBe(true);
  });

  it("replaces an incoming X-Request-Id that is not safe to log", async () => {
    for (const bad of ["has spaces in it", "x".repeat(65), 'quote"d', "<script>"]) {
      const response = await gql(app, "{ me { id } }", undefined, { "x-request-id": bad });
      const id = response.headers.get("x-request-id");
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    }
  });
});

describe("with the database gone", () => {
  let broken: TestApp;
  let token: string;
  beforeAll(async () => {
    broken = await startTestApp();
    token = (await signUpUser(broken, "broken")).token;
    await broken.database.database.close();
  });
  // The database is already closed; closing again only cleans up what is left.
  afterAll(() => broken.close().catch(() => undefined));

  it("/readyz answers 503 and /healthz still 200", async () => {
    const ready = await broken.fetch("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ database: "down" });
    expect((await broken.fetch("/healthz")).status).toBe(200);
  });

  const signIn = () =>
    gql(broken, "mutation($input: SignInInput!) { signIn(input: $input) { token } }", {
      input: { email: uniqueEmail(), password: PASSWORD },
    });
  const createWithSession = () =>
    gql(broken, 'mutation { createWorkspace(input: { name: "Down", slug: "down-ws" }) { id } }', undefined, {
      authorization: `Bearer ${token}`,
    });
  const errorLogs = (requestId: string | undefined) =>
    broken.logs
      .map((line) => JSON.parse(line) as { level?: number; requestId?: string; msg?: string })
      .filter((entry) => entry.requestId === requestId && entry.level === 50);

  it("an unexpected failure is masked, carries a request id, and is logged at error level", async () => {
    const response = await signIn();
    expect(response.status).toBe(500);
    const { text, errors } = await readBody(response);
    expect(errors).toHaveLength(1);
    const error = errors[0];
    expect(error?.message).toBe("Unexpected error.");
    expect(error?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(error?.extensions?.http?.status).toBe(500);
    const requestId = error?.extensions?.requestId;
    expect(requestId).toEqual(expect.any(String));
    expect(response.headers.get("x-request-id")).toBe(requestId);
    // Nothing about the cause leaks to the caller.
    expect(text).not.toMatch(/prisma|pglite|closed|stack/i);
    expect(errorLogs(requestId).map((entry) => entry.msg)).toContain("unexpected error");
  });

  it("a failure while reading the session is masked, not reported as a permission or auth denial", async () => {
    const response = await createWithSession();
    expect(response.status).toBe(500);
    const { text, errors } = await readBody(response);
    const codes = errors.map((e) => e.extensions?.code);
    expect(codes).not.toContain("authentication_required");
    expect(codes).not.toContain("insufficient_permissions");
    expect(codes).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect(errors[0]?.message).toBe("Unexpected error.");
    expect(errors[0]?.extensions?.requestId).toBe(response.headers.get("x-request-id"));
    expect(text).not.toMatch(/prisma|pglite|closed|stack/i);
  });

  it("a failure while reading the session is logged with its request id", async () => {
    const response = await createWithSession();
    const requestId = response.headers.get("x-request-id") ?? undefined;
    expect(requestId).toEqual(expect.any(String));
    expect(errorLogs(requestId).length).toBeGreaterThan(0);
  });

  it("masked errors carry docUrl and http.status like every other error", async () => {
    for (const response of [await signIn(), await createWithSession()]) {
      const { errors } = await readBody(response);
      expectErrorShape(errors);
      expect(errors[0]?.extensions?.docUrl?.startsWith("http://keyward.test/docs/errors")).toBe(true);
    }
  });
});

describe("GraphiQL and introspection", () => {
  it("GraphiQL is served at GET /graphql outside production", async () => {
    const response = await app.fetch("/graphql", { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    expect(await response.text()).toMatch(/graphiql/i);
  });

  it("introspection works outside production", async () => {
    const response = await gql(app, "{ __schema { types { name } } }");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data?: { __schema?: { types: { name: string }[] } } };
    expect(body.data?.__schema?.types.map((t) => t.name)).toContain("User");
  });

  describe("in production", () => {
    let prod: TestApp;
    beforeAll(async () => {
      prod = await startTestApp({ NODE_ENV: "production" });
    });
    afterAll(() => prod.close());

    it("refuses introspection with validation_failed", async () => {
      const response = await gql(prod, "{ __schema { types { name } } }");
      const { body } = await expectValidationFailed(response);
      expect(body.data ?? null).toBeNull();
      const typeQuery = await gql(prod, '{ __type(name: "User") { fields { name } } }');
      await expectValidationFailed(typeQuery);
    });

    it("does not serve GraphiQL", async () => {
      const response = await prod.fetch("/graphql", { headers: { accept: "text/html" } });
      const text = await response.text();
      expect(text).not.toMatch(/graphiql/i);
      expect(response.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
    });

    it("hides field suggestions that describe the schema", async () => {
      const devResponse = await gql(app, "{ mee { id } }");
      const dev = await expectValidationFailed(devResponse);
      expect(dev.errors[0]?.message).toMatch(/Did you mean/);
      const prodResponse = await gql(prod, "{ mee { id } }");
      const { text } = await expectValidationFailed(prodResponse);
      expect(text).not.toMatch(/Did you mean/);
    });

    it("still answers ordinary operations", async () => {
      const response = await gql(prod, "{ me { id } }");
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { me: null } });
    });
  });
});

describe("GET /graphql, which Yoga serves", () => {
  it("runs queries whose rules and resolvers read the request's loaders (workspace, its keys and members)", async () => {
    const owner = await signUpUser(app, "yoga-get");
    const { createWorkspace } = await owner.client.createWorkspace({
      input: { name: "Yoga GET", slug: `yoga-get-${process.pid}` },
    });
    const query = `query Get($id: ID!) {
      workspace(id: $id) { slug members { role } }
      apiKeys(workspaceId: $id, environment: LIVE) { totalCount }
    }`;
    const url = `/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ id: createWorkspace.id }))}`;
    const response = await app.fetch(url, { headers: { authorization: `Bearer ${owner.token}` } });
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 200,
      body: {
        data: { workspace: { slug: createWorkspace.slug, members: [{ role: "OWNER" }] }, apiKeys: { totalCount: 0 } },
      },
    });
  });
});
