import type { GraphiQLOptions } from "graphql-yoga";

// GraphiQL as Keyward serves it (outside production): every asset inlined in the page by
// @graphql-yoga/render-graphiql, so it works on a network with no way out (Yoga's own
// page loads them from a public CDN), opening on two runnable tabs. Yoga's GraphiQL
// ignores `defaultQuery`; `defaultTabs` is what it honours.

export const GRAPHIQL_TITLE = "Keyward GraphiQL";

const SIGN_UP = `# Keyward GraphiQL. Run this (the ▶ button), copy the token it returns (it is shown
# once), then open the next tab: it sends the token in Headers.
mutation SignUp {
  signUp(input: { email: "you@example.com", password: "a long passphrase", name: "You" }) {
    token
    user { id email }
  }
}
`;

const CREATE_KEY = `# Paste your token into Headers below, run CreateWorkspace, put its id into
# Variables, then run CreateApiKey. The secret is shown once: store it now.
mutation CreateWorkspace {
  createWorkspace(input: { name: "Acme", slug: "acme" }) { id slug }
}

mutation CreateApiKey($workspaceId: ID!) {
  createApiKey(input: {
    workspaceId: $workspaceId, name: "Backend", type: SECRET, environment: TEST, scopes: ["keys:verify"]
  }) {
    secret
    apiKey { id start status createdAt }
  }
}
`;

/** The tabs GraphiQL opens with (documented examples: each must pass the limits too). */
export const GRAPHIQL_TABS = [
  { query: SIGN_UP },
  {
    query: CREATE_KEY,
    variables: `{ "workspaceId": "the id CreateWorkspace returned" }`,
    headers: `{ "Authorization": "Bearer kws_…" }`,
  },
] as const;

export const graphiqlOptions = {
  title: GRAPHIQL_TITLE,
  defaultTabs: GRAPHIQL_TABS.map((tab) => ({ ...tab })),
} satisfies GraphiQLOptions;

let page: Promise<string> | undefined;

/**
 * The page, rendered once (Yoga passes the same options every time: graphiqlOptions).
 * The renderer, about 9 MB of inlined GraphiQL, is imported on the first visit, so a
 * production server, which never serves GraphiQL, never loads it.
 */
export function renderOfflineGraphiQL(options: GraphiQLOptions | undefined): Promise<string> {
  page ??= import("@graphql-yoga/render-graphiql")
    .then(({ renderGraphiQL }) => renderGraphiQL(options))
    .catch((error: unknown) => {
      page = undefined;
      throw error;
    });
  return page;
}
