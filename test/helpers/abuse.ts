import { GRAPHQL_LIMITS } from "../../server/http/armor";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../../server/http/body";

// Abusive requests, each with the catalog answer a production server must give.
// test/server/hardening-paths.test.ts sends every one through yoga.fetch and
// through the real node:http handler, and both must answer exactly this.

export interface AbusiveRequest {
  /** The attack, as the test names it. */
  name: string;
  method: "GET" | "POST";
  /** Path and query string. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent in pieces without a Content-Length (chunked on node:http, a stream to yoga.fetch). */
  chunked?: boolean;
  /** The GraphQL document, for abuses that are a document (they are sent over GET too). */
  query?: string;
  expect: { status: number; code: string; message?: string | RegExp };
}

const json = { "content-type": "application/json" };
const post = (query: string, variables?: unknown) => Buffer.from(JSON.stringify({ query, variables }));

/**
 * `workspace { members { user { memberships { workspace { … id } } } } }`: `levels`
 * fields between workspace and id, so the document nests `levels + 2` fields deep.
 */
export function membershipChain(levels: number): string {
  const names = ["members", "user", "memberships", "workspace"];
  const open = Array.from({ length: levels }, (_, i) => `${names[i % names.length]} {`).join(" ");
  return `{ workspace(slug: "acme") { ${open} id ${"} ".repeat(levels)}} }`;
}

const aliases = (count: number, field: string) =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(" ")} }`;

const SIGN_UP =
  'mutation { signUp(input: { email: "csrf@example.com", password: "a long passphrase", name: "X" }) { token } }';

/** An object nested `depth` levels deep (the outermost counts as 1). */
export function nested(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 1; i < depth; i++) value = { inner: value };
  return value;
}

const LIMIT = {
  depth: { status: 400, code: "validation_failed", message: "Query is nested too deeply." },
  aliases: { status: 400, code: "validation_failed", message: "Query has too many aliases." },
  directives: { status: 400, code: "validation_failed", message: "Query has too many directives." },
  cost: { status: 400, code: "validation_failed", message: "Query is too expensive." },
  tokens: { status: 400, code: "validation_failed", message: "Query has too many tokens." },
  characters: { status: 400, code: "validation_failed", message: "Query is too long." },
  introspection: { status: 400, code: "validation_failed", message: /introspection has been disabled/ },
  tooLarge: { status: 413, code: "payload_too_large", message: `Request body exceeds ${MAX_BODY_BYTES} bytes.` },
  mediaType: { status: 415, code: "unsupported_media_type" },
  tooDeep: { status: 400, code: "validation_failed", message: `JSON is nested deeper than ${MAX_JSON_DEPTH} levels.` },
} as const;

const KEY_FIELDS = "id name start scopes status createdAt expiresAt lastUsedAt metadata";
const TEN_MB = 10 * 1024 * 1024;

const graphqlPost = (name: string, query: string, expect: AbusiveRequest["expect"]): AbusiveRequest => ({
  name,
  method: "POST",
  path: "/graphql",
  headers: json,
  body: post(query),
  query,
  expect,
});

export const ABUSIVE_REQUESTS: AbusiveRequest[] = [
  graphqlPost("nests members/user/memberships/workspace nine levels deep", membershipChain(9), LIMIT.depth),
  graphqlPost("nests one level past the depth limit", membershipChain(GRAPHQL_LIMITS.depth - 1), LIMIT.depth),
  graphqlPost(
    "hides depth in a fragment named __schema",
    `{ workspace(slug: "acme") { members { ...__schema } } }
     fragment __schema on Membership { user { memberships { workspace { members { user { memberships { id } } } } } } }`,
    LIMIT.depth,
  ),
  graphqlPost(
    "hides cost in a fragment named __schema",
    `{ ...__schema } fragment __schema on Query {
       apiKeys(workspaceId: "w", environment: LIVE, first: 100) { edges { node { ${KEY_FIELDS} } } } }`,
    LIMIT.cost,
  ),
  graphqlPost(
    "asks for 100 wide keys in one list (cost)",
    `{ apiKeys(workspaceId: "w", environment: LIVE, first: 100) { edges { node { ${KEY_FIELDS} } } } }`,
    LIMIT.cost,
  ),
  graphqlPost(
    "sends 500 aliases of apiKeys(first: 200)",
    aliases(500, 'apiKeys(workspaceId: "w", environment: LIVE, first: 200) { totalCount }'),
    LIMIT.characters,
  ),
  graphqlPost("sends 1,000 aliases", aliases(1000, "me { id }"), LIMIT.characters),
  graphqlPost("sends one alias more than the limit", aliases(GRAPHQL_LIMITS.aliases + 1, "me { id }"), LIMIT.aliases),
  graphqlPost(
    "repeats @include(if: true) 1,000 times",
    `{ me { id ${"@include(if: true) ".repeat(1000)}} }`,
    LIMIT.characters,
  ),
  graphqlPost(
    "uses one directive more than the limit",
    `{ me { ${"id @include(if: true) ".repeat(GRAPHQL_LIMITS.directives + 1)}} }`,
    LIMIT.directives,
  ),
  graphqlPost(
    "sends more tokens than the limit in few characters",
    `{ me { ${"id ".repeat(GRAPHQL_LIMITS.tokens)}} }`,
    LIMIT.tokens,
  ),
  graphqlPost(
    "nests a selection 20,000 levels deep",
    `{ ${"me { ".repeat(20_000)}id${" }".repeat(20_000)} }`,
    LIMIT.characters,
  ),
  graphqlPost(
    "nests a selection as deep as the character limit allows",
    `{${"me{".repeat(GRAPHQL_LIMITS.characters / 4 - 1)}id${"}".repeat(GRAPHQL_LIMITS.characters / 4 - 1)}}`,
    LIMIT.tokens,
  ),
  graphqlPost(
    "spreads a fragment inside itself",
    "{ me { ...A } } fragment A on User { memberships { user { ...A } } }",
    {
      status: 400,
      code: "validation_failed",
      message: 'Cannot spread fragment "A" within itself.',
    },
  ),
  graphqlPost(
    "spreads two fragments inside each other",
    "{ me { ...A } } fragment A on User { memberships { ...B } } fragment B on Membership { user { ...A } }",
    { status: 400, code: "validation_failed", message: /Cannot spread fragment "A" within itself via "B"/ },
  ),
  graphqlPost("introspects through an alias of __schema", "{ s: __schema { types { name } } }", LIMIT.introspection),
  graphqlPost(
    "introspects through an alias of __type",
    '{ t: __type(name: "User") { fields { name } } }',
    LIMIT.introspection,
  ),
  graphqlPost(
    "introspects inside a fragment",
    "{ ...F } fragment F on Query { __schema { queryType { name } } }",
    LIMIT.introspection,
  ),
  graphqlPost(
    "introspects inside an inline fragment",
    '{ ... on Query { __type(name: "ApiKey") { name } } }',
    LIMIT.introspection,
  ),
  {
    name: "sends a 10 MB query with its Content-Length",
    method: "POST",
    path: "/graphql",
    headers: json,
    body: post(`{ me { id } } #${"x".repeat(TEN_MB)}`),
    expect: LIMIT.tooLarge,
  },
  {
    name: "streams a 10 MB query chunked, without a Content-Length",
    method: "POST",
    path: "/graphql",
    headers: json,
    body: post(`{ me { id } } #${"x".repeat(TEN_MB)}`),
    chunked: true,
    expect: LIMIT.tooLarge,
  },
  {
    name: "streams a 10 MB form post chunked",
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: Buffer.from(`query=${encodeURIComponent(SIGN_UP)}&pad=${"x".repeat(TEN_MB)}`),
    chunked: true,
    expect: LIMIT.mediaType,
  },
  {
    name: "posts a mutation as text/plain",
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "text/plain" },
    body: post(SIGN_UP),
    expect: LIMIT.mediaType,
  },
  {
    name: "posts a mutation as a form",
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: Buffer.from(`query=${encodeURIComponent(SIGN_UP)}`),
    expect: LIMIT.mediaType,
  },
  {
    name: "posts a mutation as application/graphql",
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/graphql" },
    body: Buffer.from(SIGN_UP),
    expect: LIMIT.mediaType,
  },
  {
    name: "sends a mutation over GET",
    method: "GET",
    path: `/graphql?query=${encodeURIComponent(SIGN_UP)}`,
    headers: {},
    expect: { status: 400, code: "validation_failed", message: "Required CSRF header(s) not present" },
  },
  {
    name: "sends bytes that are not UTF-8",
    method: "POST",
    path: "/graphql",
    headers: json,
    body: Buffer.concat([Buffer.from('{"query":"{ me { id } }","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    expect: { status: 400, code: "validation_failed", message: "Request body is not valid UTF-8." },
  },
  {
    name: "nests JSON in the variables past the limit",
    method: "POST",
    path: "/graphql",
    headers: json,
    body: post("mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }", {
      input: { workspaceId: "w", name: "deep", type: "SECRET", environment: "LIVE", metadata: nested(MAX_JSON_DEPTH) },
    }),
    expect: LIMIT.tooDeep,
  },
  {
    name: "nests JSON in the extensions past the limit",
    method: "POST",
    path: "/graphql",
    headers: json,
    body: Buffer.from(JSON.stringify({ query: "{ me { id } }", extensions: nested(MAX_JSON_DEPTH) })),
    expect: LIMIT.tooDeep,
  },
  {
    name: "nests JSON in GET variables past the limit",
    method: "GET",
    path: `/graphql?query=${encodeURIComponent("query($x: JSON) { me { id } }")}&variables=${encodeURIComponent(
      JSON.stringify({ x: nested(MAX_JSON_DEPTH) }),
    )}`,
    headers: { "x-graphql-yoga-csrf": "1" },
    expect: LIMIT.tooDeep,
  },
  {
    name: "nests JSON elsewhere in the body 100,000 levels deep",
    method: "POST",
    path: "/graphql",
    headers: json,
    body: Buffer.from(`{"query":"{ me { id } }","padding":${"[".repeat(100_000)}${"]".repeat(100_000)}}`),
    expect: LIMIT.tooDeep,
  },
  {
    name: "batches operations in an array",
    method: "POST",
    path: "/graphql",
    headers: json,
    body: Buffer.from(JSON.stringify([{ query: "{ me { id } }" }, { query: "{ me { id } }" }])),
    expect: { status: 400, code: "validation_failed", message: /^Batched operations are not supported/ },
  },
];

// Every abusive document again as a GET query string (Yoga's path, with the header that
// lets a GET through CSRF prevention), where the URL fits in what node:http accepts.
const MAX_URL = 8 * 1024;

export const ABUSIVE_GET_REQUESTS: AbusiveRequest[] = ABUSIVE_REQUESTS.flatMap((abuse) => {
  if (!abuse.query) return [];
  const path = `/graphql?query=${encodeURIComponent(abuse.query)}`;
  if (path.length > MAX_URL) return [];
  const name = `${abuse.name}, over GET`;
  return [{ name, method: "GET" as const, path, headers: { "x-graphql-yoga-csrf": "1" }, expect: abuse.expect }];
});

export { SIGN_UP };
