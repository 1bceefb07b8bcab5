import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";

// A shield rule that could not read the database did not refuse the caller: it says
// the database is down (503, retry), while a rule that failed for any other reason is
// still a refusal. The fault suites prove this against a real outage in server
// processes; here one in-process query is made to fail, so the rule's own handling
// (server/auth/shield.ts) is what answers.

let failure: Error | null = null;

/** Membership reads fail with `failure` while it is set; every other query runs. */
function failingMemberships(client: Db): Db {
  return client.$extends({
    query: {
      membership: {
        async findMany({ args, query }) {
          if (failure) throw failure;
          return query(args);
        },
      },
    },
  }) as unknown as Db;
}

let app: TestApp;
let owner: Awaited<ReturnType<typeof signUpUser>>;
let workspaceId: string;

beforeAll(async () => {
  app = await startTestApp({}, { prisma: failingMemberships });
  owner = await signUpUser(app, "owner");
  workspaceId = (await owner.client.createWorkspace({ input: { name: "Acme", slug: "acme-down" } })).createWorkspace.id;
});
afterAll(() => app.close());

async function listKeys() {
  const response = await app.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
    body: JSON.stringify({
      query: "query ($id: ID!) { apiKeys(workspaceId: $id, environment: TEST) { totalCount } }",
      variables: { id: workspaceId },
    }),
  });
  const body = (await response.json()) as {
    data?: unknown;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = body.errors?.[0];
  return { status: response.status, code: error?.extensions?.code ?? null, message: error?.message, data: body.data };
}

describe("a shield rule whose database read fails", () => {
  it("answers database_unavailable when the database could not be reached", async () => {
    failure = Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: "P1001" });
    try {
      const answer = await listKeys();
      expect({ status: answer.status, code: answer.code, message: answer.message }).toEqual({
        status: 503,
        code: "database_unavailable",
        message: "The database is unavailable; retry shortly.",
      });
    } finally {
      failure = null;
    }
  });

  it("is a refusal when the read failed for any other reason (nothing is let through)", async () => {
    failure = new Error("a bug in a query");
    try {
      const answer = await listKeys();
      expect(answer.code).toBe("insufficient_permissions");
      expect(answer.data ?? null).toBeNull();
    } finally {
      failure = null;
    }
  });

  it("with the database back, the same request is answered", async () => {
    expect(await listKeys()).toMatchObject({ status: 200, code: null, data: { apiKeys: { totalCount: 0 } } });
  });
});
