import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { NoSchemaIntrospectionCustomRule } from "graphql";
import { applyMiddleware } from "graphql-middleware";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { permissions } from "./auth/shield";
import { type AppDeps, buildContext, type Context } from "./context";
import { useGraphQLArmor } from "./http/armor";
import { declaredTooLarge, refusalAnswer, tooLarge } from "./http/body";
import { useStrictJsonBody } from "./http/body-plugin";
import { corsFor } from "./http/cors";
import { useCatalogErrors } from "./http/errors-plugin";
import { useRateLimits } from "./http/ratelimit-plugin";
import { requestMeta, type ServerContext, startRequest } from "./http/request-meta";
import { useRestRoutes } from "./http/rest/plugin";
import { useRoutes } from "./http/routes-plugin";
import { schema } from "./schema";

export type KeywardYoga = YogaServerInstance<ServerContext, Context>;

/** The served schema: Pothos types behind the graphql-shield permission tree. */
export const guardedSchema = applyMiddleware(schema, permissions);

/** The query GraphiQL opens with (a documented example: it must pass the limits too). */
export const DEFAULT_QUERY = `# Keyward GraphiQL. Sign up or in, then put the token in Headers below:
#   { "Authorization": "Bearer kws_…" }
mutation SignUp {
  signUp(input: { email: "you@example.com", password: "a long passphrase", name: "You" }) {
    token
    user { id email }
  }
}
`;

/** Request id, access log and body-size guard, for every route. */
function useRequestLifecycle(deps: AppDeps): Plugin<Record<string, unknown>, ServerContext> {
  return {
    onRequest({ request, serverContext, endResponse, fetchAPI }) {
      startRequest(request, serverContext ?? {});
      // Announced too large: refused before a byte is read (body-plugin.ts counts the rest).
      if (declaredTooLarge(request.headers.get("content-length"))) {
        const { status, body } = refusalAnswer(tooLarge(), deps.config.publicUrl ?? new URL(request.url).origin);
        endResponse(new fetchAPI.Response(body, { status, headers: { "content-type": "application/json" } }));
      }
    },
    onResponse({ request, response }) {
      const meta = requestMeta(request);
      response.headers.set("x-request-id", meta.id);
      const url = new URL(request.url);
      deps.logger.info(
        {
          requestId: meta.id,
          method: request.method,
          path: url.pathname,
          status: response.status,
          ms: Math.round((performance.now() - meta.startedAt) * 10) / 10,
        },
        "request",
      );
    },
  };
}

export function createKeywardYoga(deps: AppDeps & { ping: () => Promise<boolean> }): KeywardYoga {
  const production = deps.config.production;
  return createYoga<ServerContext, Context>({
    schema: guardedSchema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    logging: deps.logger.child({ component: "yoga" }),
    maskedErrors: { isDev: false },
    graphiql: production ? false : { title: "Keyward", defaultQuery: DEFAULT_QUERY },
    cors: corsFor(deps.config.corsOrigins),
    // One operation per request: an array body is refused (body.ts).
    batching: false,
    context: async ({ request }) => {
      const meta = requestMeta(request);
      try {
        return await buildContext(deps, request.headers, meta);
      } catch (error) {
        // Yoga masks this for the caller; the cause is logged here with the request id.
        deps.logger.error({ err: error, requestId: meta.id }, "unexpected error");
        throw error;
      }
    },
    plugins: [
      // Before the lifecycle: it starts its own requests (see rest/plugin.ts).
      useRestRoutes(deps),
      useRequestLifecycle(deps),
      useRoutes({ ping: deps.ping }),
      useStrictJsonBody(),
      // Only application/json reaches here as a POST (useStrictJsonBody), and a browser
      // preflights that; a GET must carry a header a page cannot add without one.
      useCSRFPrevention({ requestHeaders: ["authorization", "x-graphql-yoga-csrf"] }),
      ...useGraphQLArmor({ production }),
      useCatalogErrors({ publicUrl: deps.config.publicUrl, production }),
      useRateLimits(),
      production && {
        onValidate({
          addValidationRule,
        }: {
          addValidationRule: (rule: typeof NoSchemaIntrospectionCustomRule) => void;
        }) {
          addValidationRule(NoSchemaIntrospectionCustomRule);
        },
      },
    ].filter(Boolean) as Plugin[],
  });
}
