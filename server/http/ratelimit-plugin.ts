import { type DocumentNode, Kind, type OperationDefinitionNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context";
import { effectiveLimit } from "../keys/input";
import type { RateDecision } from "../keys/ratelimit";
import { apiError } from "../schema/result";
import { requestMeta } from "./request-meta";

// Limits on the callers of this API (verifyApiKey limits the verified key
// instead, in its answer):
// - a request authenticated with an API key spends one of that key's requests
//   (its override, or 1,000/h secret, 100/h publishable); verifyApiKey itself is
//   exempt, so a backend can verify its customers' keys at full speed;
// - signIn and signUp spend one of the caller IP's attempts (KEYWARD_AUTH_RATE_LIMIT per 10 min).
// Responses carry X-RateLimit-Limit/Remaining/Reset; a refusal is HTTP 429 with Retry-After.

const AUTH_WINDOW_SECONDS = 600;
const EXEMPT = new Set(["verifyApiKey", "__typename"]);
const AUTH = new Set(["signIn", "signUp"]);

function rootFields(document: DocumentNode, operationName: string | null | undefined): string[] {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  return (operation?.selectionSet.selections ?? []).map((s) => (s.kind === Kind.FIELD ? s.name.value : "(fragment)"));
}

export function useRateLimits(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as Context;
      const fields = rootFields(args.document, args.operationName);
      let decision: RateDecision | null = null;
      const p = ctx.principal;
      if (p.kind === "key" && fields.every((field) => EXEMPT.has(field))) {
        ctx.keys.usage.touch(p.key.id, ctx.now);
      } else if (p.kind === "key") {
        decision = await ctx.keys.limits.consume("key", p.key.id, effectiveLimit(p.key));
        // A refused request is not a use of the key.
        if (decision.allowed) ctx.keys.usage.touch(p.key.id, ctx.now);
      } else if (fields.some((field) => AUTH.has(field))) {
        decision = await ctx.keys.limits.consume("auth-ip", ctx.ip ?? "unknown", {
          limit: ctx.config.authRateLimit,
          windowSeconds: AUTH_WINDOW_SECONDS,
        });
      }
      if (!decision) return;
      ctx.meta.rateLimit = decision;
      if (!decision.allowed) {
        setResultAndStopExecution({
          errors: [
            apiError({
              code: "rate_limit_exceeded",
              message: `Rate limit of ${decision.limit} requests exceeded; retry in ${decision.retryAfterSeconds} s.`,
            }),
          ],
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
