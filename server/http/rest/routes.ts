import type { AppDeps } from "../../context";
import { isDatabaseUnavailable } from "../../db-unavailable";
import { docPath } from "../../errors";
import { githubKeys } from "../../leaks/github-keys";
import { json, type RestAnswer, type RestRequest, refuse } from "./answer";
import { authorizeRoute } from "./authorize";
import { leaksRoute } from "./leaks";
import { verifyRoute } from "./verify";

// Verification over plain HTTP, written once and served by both transports: the
// node:http handler (production, no Yoga pipeline: rest/node.ts) and Yoga
// (yoga.fetch in tests: rest/plugin.ts). Both routes verify through
// server/keys/verify.ts, exactly as the GraphQL verifyApiKey does. GitHub's
// leaked-key reports come in here too (rest/leaks.ts).

export interface RestRoute {
  /** Whether the transport must read the body before calling handle. */
  readsBody: boolean;
  handle(request: RestRequest): Promise<RestAnswer>;
}

function guarded(deps: AppDeps, route: (deps: AppDeps, request: RestRequest) => Promise<RestAnswer>) {
  return async (request: RestRequest): Promise<RestAnswer> => {
    try {
      return await route(deps, request);
    } catch (error) {
      // A key this instance does not hold, while the database is down: say so, retryably.
      if (isDatabaseUnavailable(error)) {
        return refuse(request, {
          code: "database_unavailable",
          message: "The database is unavailable; retry shortly.",
        });
      }
      // Masked for the caller, logged with the request id; headers and body are never logged.
      deps.logger.error({ err: error, requestId: request.meta.id }, "unexpected error");
      const body = {
        error: {
          code: "INTERNAL_SERVER_ERROR",
          message: "Unexpected error.",
          docUrl: request.base + docPath("INTERNAL_SERVER_ERROR"),
          requestId: request.meta.id,
        },
      };
      return json(request, 500, body);
    }
  };
}

export const VERIFY_PATH = "/v1/keys/verify";
export const AUTHORIZE_PATH = "/v1/authorize";
export const GITHUB_LEAKS_PATH = "/leaks/github";

export function createRestRoutes(deps: AppDeps) {
  const verify: RestRoute = { readsBody: true, handle: guarded(deps, verifyRoute) };
  const authorize: RestRoute = { readsBody: false, handle: guarded(deps, authorizeRoute) };
  // GitHub's keys are held for the app's life: one document fetch serves every report.
  const keys = githubKeys(deps.config.githubKeysUrl, deps.clock);
  const leaks: RestRoute = { readsBody: true, handle: guarded(deps, leaksRoute(keys)) };
  return {
    /** The route serving this path, or null for paths that are not plain-HTTP routes. */
    match(path: string): RestRoute | null {
      if (path === VERIFY_PATH) return verify;
      if (path === GITHUB_LEAKS_PATH) return leaks;
      // Envoy's ext_authz appends the original path to its path_prefix.
      if (path === AUTHORIZE_PATH || path.startsWith(`${AUTHORIZE_PATH}/`)) return authorize;
      return null;
    },
  };
}
