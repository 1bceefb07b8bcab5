import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";

// Bad arguments are the caller's mistake: each answers a catalog validation_failed
// (HTTP 400), never a server error, and logs no "unexpected error". Then what a
// production server says about a bad input object: the first problem, not a map of
// the input type.

interface Answer {
  status: number;
  body: {
    data?: unknown;
    errors?: { message: string; extensions: { code: string; field?: string; http: { status: number } } }[];
  };
  text: string;
  /** Log lines written while this request was served. */
  logs: string[];
}

async function post(app: TestApp, token: string, query: string, variables?: unknown, raw?: string): Promise<Answer> {
  const logged = app.logs.length;
  const response = await app.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: raw ?? JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Answer["body"], text, logs: app.logs.slice(logged) };
}

/** A nested JSON text `{"a":{"a":…1…}}`, built as text: JSON.stringify itself would overflow. */
const nestedJson = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const nestedLiteral = (depth: number) => `${"{a: ".repeat(depth)}1${"}".repeat(depth)}`;

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let ws: { id: string };
let keyId: string;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "input-limits");
  ws = (await owner.client.createWorkspace({ input: { name: "Limits", slug: `input-limits-${process.pid}` } }))
    .createWorkspace;
  keyId = (
    await owner.client.createApiKey({
      input: { workspaceId: ws.id, name: "k", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
    })
  ).createApiKey.apiKey.id;
});
afterAll(() => app.close());

/** The answer is one validation_failed 400, and nothing was logged as unexpected. */
function expectRefused(answer: Answer, field?: string) {
  expect(answer.status, answer.text).toBe(400);
  expect(answer.body.errors?.map((e) => e.extensions.code)).toContain("validation_failed");
  expect(answer.body.errors?.every((e) => e.extensions.code === "validation_failed")).toBe(true);
  if (field) expect(answer.body.errors?.[0]?.extensions.field).toBe(field);
  expect(answer.logs.filter((line) => line.includes("unexpected error"))).toEqual([]);
}

describe("page sizes out of range", () => {
  const connections = {
    apiKeys: (args: string) => `{ apiKeys(workspaceId: "${ws.id}", environment: LIVE, ${args}) { totalCount } }`,
    auditEvents: (args: string) => `{ auditEvents(workspaceId: "${ws.id}", ${args}) { totalCount } }`,
  };

  for (const [name, query] of Object.entries(connections)) {
    it.each(["first: -1", "last: -1", "first: 101", "last: 101"])(
      `${name}(%s) is validation_failed on that argument, not a server error`,
      async (args) => {
        expectRefused(await post(app, owner.token, query(args)), args.split(":")[0]);
      },
    );

    it(`${name}(first: 2147483647) is validation_failed (the cost limit sees it first), not a server error`, async () => {
      expectRefused(await post(app, owner.token, query("first: 2147483647")));
    });

    it(`${name}: 0 and 100 are answered (control)`, async () => {
      for (const args of ["first: 0", "first: 100"]) {
        const answer = await post(app, owner.token, query(args));
        expect(answer.status, answer.text).toBe(200);
        expect(answer.body.errors).toBeUndefined();
      }
    });
  }
});

describe("dates out of range", () => {
  const usage = (from: string, to: string) =>
    `{ apiKey(id: "${keyId}") { usage(from: "${from}", to: "${to}") { count } } }`;

  it.each([
    ["year 0", "0000-01-01T00:00:00Z", "0000-01-02T00:00:00Z"],
    ["before 1970", "1969-12-31T00:00:00Z", "1970-01-01T12:00:00Z"],
    ["past 9999 once the offset is applied", "9999-12-31T00:00:00Z", "9999-12-31T23:00:00-05:00"],
    ["a day the calendar does not have", "2030-02-31T00:00:00Z", "2030-03-04T00:00:00Z"],
  ])("usage(from, to) with %s is validation_failed", async (_label, from, to) => {
    expectRefused(await post(app, owner.token, usage(from, to)));
    const asVariables = await post(
      app,
      owner.token,
      `query($id: ID!, $from: DateTime!, $to: DateTime!) { apiKey(id: $id) { usage(from: $from, to: $to) { count } } }`,
      { id: keyId, from, to },
    );
    expectRefused(asVariables);
  });

  it("an expiry past year 9999 once the offset is applied is validation_failed", async () => {
    const answer = await post(
      app,
      owner.token,
      `mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { id expiresAt } }`,
      { input: { id: keyId, expiresAt: "9999-12-31T23:00:00-05:00" } },
    );
    expectRefused(answer);
  });

  it("control: the first instant of 1970 is a valid bound", async () => {
    const answer = await post(app, owner.token, usage("1970-01-01T00:00:00Z", "1970-01-02T00:00:00Z"));
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.data).toEqual({ apiKey: { usage: [] } });
  });
});

describe("metadata nested 5,000 deep", () => {
  const update = () => `mutation($m: JSON) { updateApiKey(input: { id: "${keyId}", metadata: $m }) { id } }`;

  it("as a variable is validation_failed by the body's nesting rule, without a stack overflow", async () => {
    const raw = `{"query": ${JSON.stringify(update())}, "variables": {"m": ${nestedJson(5000)}}}`;
    const answer = await post(app, owner.token, "", undefined, raw);
    expectRefused(answer);
    expect(answer.body.errors?.[0]?.message).toMatch(/nested deeper than 16 levels/);
  });

  it("a literal 40 levels deep (inside the document limits) is validation_failed by the JSON scalar", async () => {
    const query = `mutation { updateApiKey(input: { id: "${keyId}", metadata: ${nestedLiteral(40)} }) { id } }`;
    const answer = await post(app, owner.token, query);
    expectRefused(answer);
    expect(answer.body.errors?.[0]?.message).toMatch(/JSON values may nest at most 32 levels deep$/);
  });

  it("as a literal in the document is validation_failed, without a stack overflow", async () => {
    const query = `mutation { updateApiKey(input: { id: "${keyId}", metadata: ${nestedLiteral(5000)} }) { id } }`;
    expectRefused(await post(app, owner.token, query));
  });

  it("9 levels (past the metadata rule, within the JSON scalar's) is validation_failed on metadata", async () => {
    const raw = `{"query": ${JSON.stringify(update())}, "variables": {"m": ${nestedJson(9)}}}`;
    expectRefused(await post(app, owner.token, "", undefined, raw), "metadata");
  });

  it("control: 8 levels are stored", async () => {
    const raw = `{"query": ${JSON.stringify(update())}, "variables": {"m": ${nestedJson(8)}}}`;
    const answer = await post(app, owner.token, "", undefined, raw);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.errors).toBeUndefined();
  });
});

describe("in production, a bad input object", () => {
  let prod: TestApp;
  let token: string;
  let workspaceId: string;

  beforeAll(async () => {
    prod = await startTestApp({ NODE_ENV: "production" });
    const user = await signUpUser(prod, "prod-input");
    token = user.token;
    workspaceId = (await user.client.createWorkspace({ input: { name: "P", slug: `prod-input-${process.pid}` } }))
      .createWorkspace.id;
  });
  afterAll(() => prod.close());

  const create = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`;

  it("missing fields in a variable: one error naming the first, without printing the input", async () => {
    const answer = await post(prod, token, create, {
      input: { workspaceId, type: "SECRET", metadata: { internal: "do-not-echo" } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.message)).toEqual([
      'Variable "$input" got invalid value …; Field "environment" of required type "Environment!" was not provided.',
    ]);
    expect(answer.text).not.toContain("do-not-echo");
    expect(answer.text).not.toContain('"name"');
  });

  it("a bad nested value in a variable keeps its path", async () => {
    const answer = await post(prod, token, create, {
      input: { workspaceId, type: "SECRET", name: "n", environment: "LIVE", rateLimit: { limit: "x" } },
    });
    expect(answer.body.errors?.map((e) => e.message)).toEqual([
      'Variable "$input" got invalid value … at "input.rateLimit.limit"; Int cannot represent non-integer value: "x"',
    ]);
  });

  it("missing fields inline: one error naming the first", async () => {
    const answer = await post(
      prod,
      token,
      `mutation { createApiKey(input: { workspaceId: "${workspaceId}", type: SECRET }) { secret } }`,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.message)).toEqual([
      'Field "CreateApiKeyInput.environment" of required type "Environment!" was not provided.',
    ]);
  });

  it("control: outside production every problem is listed, with the value", async () => {
    const answer = await post(app, owner.token, create, { input: { workspaceId: ws.id, type: "SECRET" } });
    expect(answer.body.errors?.length).toBe(2);
    expect(answer.body.errors?.[0]?.message).toContain(ws.id);
  });
});
