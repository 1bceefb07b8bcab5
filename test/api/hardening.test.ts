import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRAPHQL_LIMITS } from "../../server/http/armor";
import { MAX_JSON_DEPTH } from "../../server/http/body";
import { membershipChain, nested } from "../helpers/abuse";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";

// What an attacker found on a production server, each as the attack it now fails:
// introspection and schema hints, a cross-site form running a mutation, and bodies
// that dodged the size and UTF-8 checks. (CORS: hardening-cors.test.ts; the document
// abuse, through both paths: test/server/hardening-paths.test.ts.)

interface ErrorBody {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string; requestId?: string; http?: { status?: number } } }[];
}

let prod: TestApp;
let dev: TestApp;
beforeAll(async () => {
  prod = await startTestApp({ NODE_ENV: "production" });
  dev = await startTestApp();
});
afterAll(async () => {
  await prod.close();
  await dev.close();
});

const gql = (app: TestApp, query: string, variables?: unknown, headers: Record<string, string> = {}) =>
  app.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });

async function refusal(response: Response, status: number, code: string) {
  const body = (await response.json()) as ErrorBody;
  expect({ status: response.status, code: body.errors?.[0]?.extensions?.code }, JSON.stringify(body)).toEqual({
    status,
    code,
  });
  expect(body.data ?? null).toBeNull();
  return body;
}

describe("production: nothing about the schema leaks", () => {
  const spellings = [
    "{ __schema { queryType { name } } }",
    "{ s: __schema { types { name } } }",
    '{ t: __type(name: "User") { fields { name } } }',
    "{ me { id } __schema { types { name } } }",
    "{ ...F } fragment F on Query { __schema { types { name } } }",
    '{ ... on Query { __type(name: "ApiKey") { fields { name } } } }',
    "query { ...__schema } fragment __schema on Query { __schema { types { name } } }",
  ];

  it.each(spellings)("refuses introspection spelled %s", async (query) => {
    await refusal(await gql(prod, query), 400, "validation_failed");
  });

  it("still answers __typename, which names no other type", async () => {
    const response = await gql(prod, "{ __typename }");
    expect(await response.json()).toEqual({ data: { __typename: "Query" } });
  });

  const misspelt = [
    ["a field", "{ mee { id } }", "me"],
    ["an argument", '{ workspace(slgu: "x") { id } }', "slug"],
    ["a type", "{ me { ...F } } fragment F on Usr { id }", "User"],
  ] as const;

  it.each(misspelt)("does not suggest the name of %s", async (_what, query, hidden) => {
    const devBody = await refusal(await gql(dev, query), 400, "validation_failed");
    expect(devBody.errors?.[0]?.message).toContain(`Did you mean "${hidden}"`);
    const body = await refusal(await gql(prod, query), 400, "validation_failed");
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/Did you mean/);
    expect(text).not.toContain(`"${hidden}\\"`);
  });

  it("states a limit's numbers in development and hides them in production", async () => {
    const query = membershipChain(9);
    const devBody = await refusal(await gql(dev, query), 400, "validation_failed");
    expect(devBody.errors?.[0]?.message).toBe(`Query depth limit of ${GRAPHQL_LIMITS.depth} exceeded, found 11.`);
    const prodBody = await refusal(await gql(prod, query), 400, "validation_failed");
    expect(prodBody.errors?.[0]?.message).toBe("Query is nested too deeply.");
  });

  it("masks an internal failure and gives its request id", async () => {
    const broken = await startTestApp({ NODE_ENV: "production" });
    await broken.database.database.close();
    try {
      const response = await gql(broken, "mutation($input: SignInInput!) { signIn(input: $input) { token } }", {
        input: { email: uniqueEmail(), password: PASSWORD },
      });
      const text = await response.text();
      const body = JSON.parse(text) as ErrorBody;
      expect(response.status).toBe(500);
      expect(body.errors?.[0]?.message).toBe("Unexpected error.");
      expect(body.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
      expect(body.errors?.[0]?.extensions?.requestId).toBe(response.headers.get("x-request-id"));
      expect(text).not.toMatch(/prisma|pglite|closed|stack/i);
    } finally {
      await broken.close().catch(() => undefined);
    }
  });
});

describe("CSRF: a mutation a cross-site page could send is refused and changes nothing", () => {
  const email = "csrf.victim@example.com";
  const signUp = `mutation { signUp(input: { email: "${email}", password: "${PASSWORD}", name: "Eve" }) { token } }`;
  const users = () => prod.db.user.count();

  const attempts: [string, RequestInit & { path?: string }, number][] = [
    ["text/plain", { headers: { "content-type": "text/plain" }, body: JSON.stringify({ query: signUp }) }, 415],
    [
      "a form post",
      {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `query=${encodeURIComponent(signUp)}`,
      },
      415,
    ],
    [
      "multipart without the CSRF header",
      {
        headers: { "content-type": "multipart/form-data; boundary=b" },
        body: `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: signUp })}\r\n--b--\r\n`,
      },
      415,
    ],
    [
      "multipart with the CSRF header",
      {
        headers: { "content-type": "multipart/form-data; boundary=b", "x-graphql-yoga-csrf": "1" },
        body: `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: signUp })}\r\n--b--\r\n`,
      },
      415,
    ],
    ["application/graphql", { headers: { "content-type": "application/graphql" }, body: signUp }, 415],
    ["GET", { method: "GET", path: `/graphql?query=${encodeURIComponent(signUp)}` }, 400],
    [
      "GET with the CSRF header",
      { method: "GET", path: `/graphql?query=${encodeURIComponent(signUp)}`, headers: { "x-graphql-yoga-csrf": "1" } },
      400,
    ],
  ];

  it.each(attempts)("refuses signUp sent as %s", async (_how, { path, ...init }, status) => {
    const before = await users();
    const response = await prod.fetch(path ?? "/graphql", { method: "POST", ...init });
    await refusal(response, status, status === 415 ? "unsupported_media_type" : "validation_failed");
    expect(await users()).toBe(before);
    expect(await prod.db.user.count({ where: { email } })).toBe(0);
  });

  it("runs the same mutation sent as JSON (so the counts above would see a change)", async () => {
    const before = await users();
    const response = await gql(prod, signUp.replace(email, "csrf.control@example.com"));
    expect(response.status).toBe(200);
    expect(await users()).toBe(before + 1);
  });

  it("refuses a GET query without such a header, so a cross-site page cannot read with it", async () => {
    const response = await prod.fetch(`/graphql?query=${encodeURIComponent("{ me { email } }")}`);
    const body = await refusal(response, 400, "validation_failed");
    expect(body.errors?.[0]?.message).toBe("Required CSRF header(s) not present");
  });

  it("answers GET queries that carry a header a page cannot add without a preflight", async () => {
    const owner = await signUpUser(prod, "getter");
    const response = await prod.fetch(`/graphql?query=${encodeURIComponent("{ me { email } }")}`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(await response.json()).toEqual({ data: { me: { email: owner.email } } });
  });
});

describe("bodies are JSON in UTF-8, and nothing else is read", () => {
  it("accepts application/json with charset=utf-8", async () => {
    const response = await prod.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    expect(await response.json()).toEqual({ data: { me: null } });
  });

  it.each(["application/json; charset=latin1", "application/graphql+json", "application/jsonx", ""])(
    "refuses the content type %j",
    async (contentType) => {
      const response = await prod.fetch("/graphql", {
        method: "POST",
        headers: contentType ? { "content-type": contentType } : {},
        body: JSON.stringify({ query: "{ me { id } }" }),
      });
      await refusal(response, 415, "unsupported_media_type");
    },
  );

  it("stores nothing from a name that is not UTF-8, sent as JSON or as a form", async () => {
    const before = await prod.db.user.count();
    const signUp = (name: Buffer) =>
      Buffer.concat([
        Buffer.from(
          `{"query":"mutation { signUp(input: { email: \\"bytes@example.com\\", password: \\"${PASSWORD}\\", name: \\"`,
        ),
        name,
        Buffer.from('\\" }) { token } }"}'),
      ]);
    const asJson = await prod.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array(signUp(Buffer.from([0xc3, 0x28]))),
    });
    await refusal(asJson, 400, "validation_failed");
    const asForm = await prod.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new Uint8Array(Buffer.concat([Buffer.from("query="), signUp(Buffer.from([0xff]))])),
    });
    await refusal(asForm, 415, "unsupported_media_type");
    expect(await prod.db.user.count()).toBe(before);
  });

  it("accepts metadata at its own 8-level limit inside the body's nesting limit", async () => {
    const owner = await signUpUser(prod, "nesting");
    const { createWorkspace } = await owner.client.createWorkspace({ input: { name: "Nest", slug: "nest-ws" } });
    const input = {
      workspaceId: createWorkspace.id,
      name: "nested",
      type: "SECRET",
      environment: "TEST",
      metadata: nested(8),
    };
    const mutation = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { metadata } } }";
    const ok = await gql(prod, mutation, { input }, { authorization: `Bearer ${owner.token}` });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: { createApiKey: { apiKey: { metadata: unknown } } } }).data).toEqual({
      createApiKey: { apiKey: { metadata: nested(8) } },
    });
    const deep = await gql(
      prod,
      mutation,
      { input: { ...input, metadata: nested(MAX_JSON_DEPTH) } },
      { authorization: `Bearer ${owner.token}` },
    );
    const body = await refusal(deep, 400, "validation_failed");
    expect(body.errors?.[0]?.message).toBe(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels.`);
    expect(await prod.db.apiKey.count({ where: { workspaceId: createWorkspace.id } })).toBe(1);
  });
});
