import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { getOperationAST, NoSchemaIntrospectionCustomRule } from "graphql";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { type AppDeps, buildContext, type Context } from "./context";
import { graphiqlOptions, renderOfflineGraphiQL } from "./graphiql";
import { useGraphQLArmor } from "./http/armor";
import { useStrictJsonBody } from "./http/body-plugin";
import { corsFor } from "./http/cors";
import { useCatalogErrors } from "./http/errors-plugin";
import { useRateLimits } from "./http/ratelimit-plugin";
import { requestMeta, type ServerContext, startRequest } from "./http/request-meta";
import { guardedSchema } from "./schema/guarded";

export type KeywardYoga = YogaServerInstance<ServerContext, Context>;

/**
 * The request id for every request Yoga serves (the edge's own, when it handed the
 * request over); the edge writes the access-log line.
 */
function useRequestId(): Plugin<Record<string, unknown>, ServerContext> {
  return {
    onRequest({ request, serverContext }) {
      startRequest(request, serverContext ?? {});
    },
    onResponse({ request, response }) {
      response.headers.set("x-request-id", requestMeta(request).id);
    },
  };
}

/** The operation's name on the request, for its trace span (the edge's runner notes its own). */
function useOperationName(): Plugin<Record<string, unknown>, ServerContext, Context> {
  return {
    onExecute({ args }) {
      const name = getOperationAST(args.document, args.operationName ?? undefined)?.name?.value;
      if (name) (args.contextValue as Context).meta.operation = name;
    },
  };
}

/**
 * GraphQL's general engine, behind the edge (server/http/edge.ts): it serves GET
 * /graphql and GraphiQL, CORS preflights, and the documents the edge's runner leaves
 * to it, with the same limits, rules and error mapping.
 */
export function createKeywardYoga(deps: AppDeps): KeywardYoga {
  const production = deps.config.production;
  return createYoga<ServerContext, Context>({
    schema: guardedSchema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    logging: deps.logger.child({ component: "yoga" }),
    maskedErrors: { isDev: false },
    // Production serves no GraphiQL; elsewhere it is Keyward's own page, with no CDN.
    graphiql: production ? false : graphiqlOptions,
    renderGraphiQL: renderOfflineGraphiQL,
    cors: corsFor(deps.config.corsOrigins),
    // One operation per request: an array body is refused (body.ts).
    batching: false,
    context: async ({ request }) => {
      const meta = requestMeta(request);
      try {
        const context = await buildContext(deps, request.headers, meta);
        // Envelop copies the context's own properties into its own object
        // (Object.assign), which leaves behind the lazy getters on the context's
        // prototype: without this, every rule or resolver reading ctx.loaders failed.
        return { ...context, loaders: context.loaders, log: context.log };
      } catch (error) {
        // Yoga masks this for the caller; the cause is logged here with the request id.
        deps.logger.error({ err: error, requestId: meta.id }, "unexpected error");
        throw error;
      }
    },
    plugins: [
      useRequestId(),
      useOperationName(),
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
