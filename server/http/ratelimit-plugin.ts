import type { Plugin } from "graphql-yoga";
import type { Context } from "../context";
import type { Failure } from "../errors";
import { effectiveLimit } from "../keys/input";
import type { RateDecision } from "../keys/ratelimit";
import { PAGE_SIZE } from "../schema/pagination";
import { apiError } from "../schema/result";
import { type CostRules, measure } from "./cost";
import { requestMeta } from "./request-meta";

// Limits on the callers of this API (verifyApiKey limits the verified key
// instead, in its answer), counted on the document as it will execute (see cost.ts):
// - every request: at most MAX_REQUEST_COST points, whoever sends it;
// - a request authenticated with an API key spends its cost in points of that key's
//   limit (its override, or 1,000/h secret, 100/h publishable); verifyApiKey is
//   free, so a backend can verify its customers' keys at full speed;
// - every signIn and signUp call (each alias) spends one of the caller IP's attempts
//   (KEYWARD_AUTH_RATE_LIMIT per 10 min), whatever credential the request carries.
// Responses carry X-RateLimit-Limit/Remaining/Reset; a refusal is HTTP 429 with Retry-After.

export const AUTH_WINDOW_SECONDS = 600;
export const MAX_REQUEST_COST = 1000;
const AUTH = new Set(["signIn", "signUp"]);

export const COST_RULES: CostRules = {
  defaultPageSize: PAGE_SIZE.default,
  maxPageSize: PAGE_SIZE.max,
  maxCost: MAX_REQUEST_COST,
  maxFields: 10_000,
  maxDepth: 32,
  free: new Set(["verifyApiKey", "__typename"]),
};

const tooExpensive = (message: string): Failure => ({
  code: "validation_failed",
  message: `${message} Ask for smaller pages (first/last) or split the request.`,
});

/** The decision to show in the headers: a refusal, else the one with the fewest left. */
function shown(decisions: RateDecision[]): RateDecision | undefined {
  return decisions.find((d) => !d.allowed) ?? [...decisions].sort((a, b) => a.remaining - b.remaining)[0];
}

export function useRateLimits(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context;
      const refuse = (failure: Failure) => setResultAndStopExecution({ errors: [apiError(failure)] });
      const { cost, rootFields } = measure(
        {
          schema: args.schema,
          document: args.document,
          operationName: args.operationName,
          variables: args.variableValues,
        },
        COST_RULES,
      );
      if (cost > MAX_REQUEST_COST) {
        return refuse(
          tooExpensive(
            Number.isFinite(cost)
              ? `This request would cost ${cost} points; one request may cost at most ${MAX_REQUEST_COST}.`
              : `This request would cost more than ${MAX_REQUEST_COST} points, or select more than ${COST_RULES.maxFields} fields or ${COST_RULES.maxDepth} levels with its fragments expanded.`,
          ),
        );
      }
      const decisions: RateDecision[] = [];
      const authCalls = rootFields.filter((field) => AUTH.has(field)).length;
      if (authCalls > 0) {
        const limit = { limit: ctx.config.authRateLimit, windowSeconds: AUTH_WINDOW_SECONDS };
        decisions.push(await ctx.keys.limits.consume("auth-ip", ctx.ip ?? "unknown", limit, authCalls));
      }
      const p = ctx.principal;
      if (p.kind === "key" && decisions.every((d) => d.allowed)) {
        const limit = effectiveLimit(p.key);
        if (cost > limit.limit) {
          return refuse(
            tooExpensive(
              `This request costs ${cost} points, more than this key's whole limit of ${limit.limit} per ${limit.windowSeconds} s.`,
            ),
          );
        }
        if (cost > 0) decisions.push(await ctx.keys.limits.consume("key", p.key.id, limit, cost));
        // A refused request is not a use of the key.
        if (decisions.every((d) => d.allowed)) ctx.keys.usage.touch(p.key.id, ctx.now);
      }
      const decision = shown(decisions);
      if (!decision) return;
      ctx.meta.rateLimit = decision;
      if (!decision.allowed) {
        refuse({
          code: "rate_limit_exceeded",
          message: `Rate limit of ${decision.limit} per window exceeded; retry in ${decision.retryAfterSeconds} s.`,
        });
      }
    },
    onResponse({ request, response }) {
      const limit = requestMeta(request).rateLimit;
      if (!limit) return;
      response.headers.set("x-ratelimit-limit", String(limit.limit));
      response.headers.set("x-ratelimit-remaining", String(limit.remaining));
      response.headers.set("x-ratelimit-reset", String(Math.ceil(limit.resetAt.getTime() / 1000)));
      if (!limit.allowed) response.headers.set("retry-after", String(limit.retryAfterSeconds));
    },
  };
}
