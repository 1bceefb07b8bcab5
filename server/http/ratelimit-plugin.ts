import type { Plugin } from "graphql-yoga";
import type { Context } from "../context";
import { apiError } from "../errors";
import { chargeCaller, rateLimitHeaders } from "./charge";
import { requestMeta } from "./request-meta";

// The caller's limits (charge.ts) for documents that Yoga runs; the edge's runner
// charges with the same function. A refusal is HTTP 429 with Retry-After.

export function useRateLimits(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const failure = await chargeCaller(args.contextValue as Context, {
        schema: args.schema,
        document: args.document,
        operationName: args.operationName,
        variables: args.variableValues,
      });
      if (failure) setResultAndStopExecution({ errors: [apiError(failure)] });
    },
    onResponse({ request, response }) {
      const limit = requestMeta(request).rateLimit;
      if (!limit) return;
      for (const [name, value] of Object.entries(rateLimitHeaders(limit))) response.headers.set(name, value);
    },
  };
}
