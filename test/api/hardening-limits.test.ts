import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type GraphQLError, Kind, parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sdk from "../../sdk/src/generated/graphql";
import { GRAPHIQL_TABS } from "../../server/graphiql";
import { GRAPHQL_LIMITS } from "../../server/http/armor";
import { membershipChain } from "../helpers/abuse";
import { startTestApp, type TestApp } from "../helpers/app";

// The document limits (server/http/armor.ts) must never refuse what Keyward itself
// tells people to send: every SDK operation, the README's examples and GraphiQL's
// opening query. Each is parsed and validated by the production server's own
// pipeline (the same plugins, in the same order, as a request).

const root = path.resolve(import.meta.dirname, "../..");

/** Every operation document the SDK sends, by export name (ApiKeysDocument, …). */
const SDK_DOCUMENTS = Object.entries(sdk)
  .filter(([name]) => name.endsWith("Document"))
  .map(([name, document]) => [name, String(document)] as const);

/** The GraphQL the README shows: its ```graphql blocks and the queries in its curl examples. */
function readmeExamples(): string[] {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  const curls = [...readme.matchAll(/-d '(\{"query":[\s\S]*?\})'/g)].map(
    (m) => (JSON.parse(m[1] ?? "{}") as { query: string }).query,
  );
  return [...blocks, ...curls];
}

let prod: TestApp;
beforeAll(async () => {
  prod = await startTestApp({ NODE_ENV: "production" });
});
afterAll(() => prod.close());

/** The errors the production server's parse and validate give this document. */
function check(source: string, operationName?: string): readonly GraphQLError[] {
  const {
    parse: parseDocument,
    validate,
    schema,
  } = prod.yoga.getEnveloped({
    request: new Request("http://keyward.test/graphql", { method: "POST" }),
    params: { query: source, operationName },
  } as unknown as Parameters<TestApp["yoga"]["getEnveloped"]>[0]);
  try {
    return validate(schema, parseDocument(source));
  } catch (error) {
    return [error as GraphQLError];
  }
}

describe("the SDK's documents pass every limit", () => {
  it("covers every operation in sdk/operations", () => {
    const dir = path.join(root, "sdk/operations");
    const operations = readdirSync(dir)
      .filter((file) => file.endsWith(".graphql"))
      .flatMap((file) => parse(readFileSync(path.join(dir, file), "utf8")).definitions)
      .flatMap((definition) =>
        definition.kind === Kind.OPERATION_DEFINITION ? [`${definition.name?.value}Document`] : [],
      );
    expect(operations.length).toBeGreaterThan(15);
    expect(SDK_DOCUMENTS.map(([name]) => name).sort()).toEqual(operations.sort());
  });

  it.each(SDK_DOCUMENTS)("%s", (_name, source) => {
    expect(check(source).map((e) => e.message)).toEqual([]);
  });
});

describe("the documented examples pass every limit", () => {
  const examples = readmeExamples();

  it("finds the README's examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples.map((example) => [example.trim().split("\n")[0] ?? "", example] as const))(
    "README: %s",
    (_first, source) => {
      expect(check(source).map((e) => e.message)).toEqual([]);
    },
  );

  // A tab may hold several operations; GraphiQL sends the one you pick by name.
  const tabOperations = GRAPHIQL_TABS.flatMap((tab, index) =>
    parse(tab.query).definitions.flatMap((definition) =>
      definition.kind === Kind.OPERATION_DEFINITION ? [[index + 1, definition.name?.value, tab.query] as const] : [],
    ),
  );

  it("finds GraphiQL's signUp and createApiKey examples", () => {
    expect(tabOperations.map(([tab, name]) => `${tab}:${name}`)).toEqual([
      "1:SignUp",
      "2:CreateWorkspace",
      "2:CreateApiKey",
    ]);
  });

  it.each(tabOperations)("GraphiQL's tab %i: %s", (_tab, name, query) => {
    expect(check(query, name).map((e) => e.message)).toEqual([]);
  });
});

describe("the limits sit where the tests of abuse expect them", () => {
  it("accepts the membership chain at the depth limit and refuses it one level deeper", () => {
    expect(check(membershipChain(GRAPHQL_LIMITS.depth - 2)).map((e) => e.message)).toEqual([]);
    expect(check(membershipChain(GRAPHQL_LIMITS.depth - 1)).map((e) => e.message)).toEqual([
      "Query is nested too deeply.",
    ]);
  });

  it("accepts the largest page of keys, by a literal first: 100, with a few fields each", () => {
    const query =
      '{ apiKeys(workspaceId: "w", environment: LIVE, first: 100) { edges { node { id name start status } } } }';
    expect(check(query).map((e) => e.message)).toEqual([]);
  });

  it("accepts a page of 20 keys by a literal first: argument", () => {
    const query =
      '{ apiKeys(workspaceId: "w", environment: LIVE, first: 20) { totalCount edges { node { id name start status } } } }';
    expect(check(query).map((e) => e.message)).toEqual([]);
  });
});
