import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { COST_RULES } from "../../server/http/charge";
import { type CostRules, measure } from "../../server/http/cost";
import { guardedSchema } from "../../server/schema/guarded";

// The cost of a document as it will execute: aliases are calls, fragments are
// expanded, a connection runs the costly fields inside it once per row.

const W = '"00000000-0000-0000-0000-000000000000"';
const cost = (query: string, variables?: Record<string, unknown>, rules: CostRules = COST_RULES) =>
  measure({ schema: guardedSchema, document: parse(query), variables }, rules).cost;
const roots = (query: string, operationName?: string) =>
  measure({ schema: guardedSchema, document: parse(query), operationName }, COST_RULES).rootFields;

const SIGN_IN = 'signIn(input: { email: "a@example.com", password: "p" }) { token }';

describe("root fields", () => {
  it("each root field costs 1", () => {
    expect(cost("{ me { id } }")).toBe(1);
    expect(cost(`{ me { id } workspace(id: ${W}) { id } }`)).toBe(2);
  });

  it("each alias is a call of its own", () => {
    const aliases = Array.from(
      { length: 10 },
      (_, i) => `k${i}: apiKeys(workspaceId: ${W}, environment: LIVE) { totalCount }`,
    );
    expect(cost(`{ ${aliases.join(" ")} }`)).toBe(10);
  });

  it("fields merged under one response key are one call, as graphql-js executes them", () => {
    expect(cost("{ me { id } me { email } }")).toBe(1);
  });

  it("fields inside named fragments, inline fragments and both nested count", () => {
    const query = `
      query Q { ...A ... on Query { b: me { id } } ... { c: me { id } } }
      fragment A on Query { a: me { id } ...B }
      fragment B on Query { d: me { id } ... on Query { e: me { id } } }`;
    expect(cost(query)).toBe(5);
    expect(roots(query)).toEqual(["me", "me", "me", "me", "me"]);
  });

  it("a fragment spread twice in one selection counts once, as graphql-js collects it", () => {
    expect(cost("{ ...A ...A } fragment A on Query { me { id } }")).toBe(1);
  });

  it("fields under @skip(if: true) or @include(if: false), literal or variable, are not run and cost nothing", () => {
    expect(cost("{ a: me @skip(if: true) { id } b: me @include(if: false) { id } c: me { id } }")).toBe(1);
    const query = "query($s: Boolean!) { a: me @skip(if: $s) { id } b: me { id } }";
    expect(cost(query, { s: true })).toBe(1);
    expect(cost(query, { s: false })).toBe(2);
  });

  it("says when a variable changed the answer, so a document's cost is kept only when none did", () => {
    const variable = (query: string, variables?: Record<string, unknown>) =>
      measure({ schema: guardedSchema, document: parse(query), variables }, COST_RULES).variable;
    expect(variable("{ me { id } }")).toBe(false);
    expect(variable(`{ apiKeys(workspaceId: ${W}, environment: LIVE, first: 5) { totalCount } }`)).toBe(false);
    expect(variable("mutation($input: VerifyApiKeyInput!) { verifyApiKey(input: $input) { valid } }")).toBe(false);
    expect(variable("{ me @skip(if: true) { id } }")).toBe(false);
    expect(
      variable(`query($n: Int) { apiKeys(workspaceId: ${W}, environment: LIVE, first: $n) { totalCount } }`, { n: 3 }),
    ).toBe(true);
    expect(variable("query($s: Boolean!) { me @skip(if: $s) { id } }", { s: false })).toBe(true);
    expect(
      variable("query($s: Boolean!) { ...F } fragment F on Query { me @include(if: $s) { id } }", { s: true }),
    ).toBe(true);
  });

  it("verifyApiKey and __typename are free", () => {
    expect(
      cost(
        'mutation { a: verifyApiKey(input: { key: "x" }) { valid } b: verifyApiKey(input: { key: "y" }) { valid } }',
      ),
    ).toBe(0);
    expect(cost("{ __typename }")).toBe(0);
  });

  it("signIn calls are found by alias, in fragments and in inline fragments", () => {
    const query = `mutation M { a: ${SIGN_IN} ... on Mutation { b: ${SIGN_IN} } ...F }
      fragment F on Mutation { c: ${SIGN_IN} }`;
    expect(roots(query, "M")).toEqual(["signIn", "signIn", "signIn"]);
  });

  it("the named operation is measured, not the first one", () => {
    const query = `query A { me { id } } mutation B { a: ${SIGN_IN} b: ${SIGN_IN} }`;
    expect(roots(query, "B")).toEqual(["signIn", "signIn"]);
    expect(roots(query, "A")).toEqual(["me"]);
  });
});

describe("connections multiply what runs per row", () => {
  const usage = 'usage(from: "2030-01-01T00:00:00Z", to: "2030-01-02T00:00:00Z") { count }';
  const list = (args: string) =>
    `{ apiKeys(workspaceId: ${W}, environment: LIVE${args}) { edges { node { id ${usage} } } } }`;

  it("a page without per-row work costs 1, whatever its size", () => {
    expect(cost(`{ apiKeys(workspaceId: ${W}, environment: LIVE, first: 100) { edges { node { id name } } } }`)).toBe(
      1,
    );
  });

  it("a per-row query runs once per row: first, last, or the default page of 50", () => {
    expect(cost(list(", first: 10"))).toBe(11);
    expect(cost(list(", last: 7"))).toBe(8);
    expect(cost(list(""))).toBe(51);
    expect(cost(`query($n: Int) ${list(", first: $n")}`, { n: 20 })).toBe(21);
  });

  it("page sizes outside 1..100 are counted as 1 and 100 (the resolver refuses them anyway)", () => {
    expect(cost(list(", first: 100000"))).toBe(101);
    expect(cost(list(", first: -5"))).toBe(2);
  });

  it("per-row queries under aliases add up", () => {
    const node = `node { a: ${usage} b: ${usage} }`;
    expect(cost(`{ apiKeys(workspaceId: ${W}, environment: LIVE, first: 10) { edges { ${node} } } }`)).toBe(21);
  });
});

describe("limits of the count", () => {
  it("past maxCost the answer is Infinity", () => {
    const aliases = Array.from({ length: 1001 }, (_, i) => `m${i}: me { id }`).join(" ");
    expect(cost(`{ ${aliases} }`)).toBe(Number.POSITIVE_INFINITY);
  });

  it("a fragment bomb (each fragment spreads the next twice under two aliases) is Infinity, quickly", () => {
    // 15 levels stay within maxDepth (2 per level); 2^15 expansions pass maxFields.
    const levels = 15;
    const fragments = Array.from(
      { length: levels },
      (_, i) =>
        `fragment F${i} on User { a: memberships { user { ...F${i + 1} } } b: memberships { user { ...F${i + 1} } } }`,
    );
    const query = `{ me { ...F0 } } ${fragments.join(" ")} fragment F${levels} on User { id }`;
    const started = performance.now();
    expect(cost(query, undefined, { ...COST_RULES, maxCost: Number.POSITIVE_INFINITY })).toBe(Number.POSITIVE_INFINITY);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("a fragment that spreads itself (refused by validation later) ends the count instead of looping", () => {
    const unbounded = { ...COST_RULES, maxCost: Number.POSITIVE_INFINITY };
    const query = "{ me { ...F } } fragment F on User { id ...F memberships { user { ...F } } }";
    expect(cost(query, undefined, unbounded)).toBe(Number.POSITIVE_INFINITY);
  });

  it("fragments chained deeper than maxDepth are Infinity, though each is shallow in the text", () => {
    const unbounded = { ...COST_RULES, maxCost: Number.POSITIVE_INFINITY };
    const chain = (levels: number) =>
      `{ me { ...F0 } } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on User { memberships { user { ...F${i + 1} } } }`).join(" ")} fragment F${levels} on User { id }`;
    expect(cost(chain(10), undefined, unbounded)).toBe(11);
    expect(cost(chain(1000), undefined, unbounded)).toBe(Number.POSITIVE_INFINITY);
  });
});
