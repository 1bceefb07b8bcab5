import type { DocumentNode, GraphQLSchema } from "graphql";
import type { Context } from "../context";
import type { Failure } from "../errors";
import { effectiveLimit } from "../keys/input";
import type { RateDecision } from "../keys/ratelimit";
import { PAGE_SIZE } from "../schema/pagination";
import { type CostRules, type Measure, measure } from "./cost";

// Limits on the callers of this API (verifyApiKey limits the verified key
// instead, in its answer), counted on the document as it will execute (see cost.ts):
// - every request: at most MAX_REQUEST_COST points, whoever sends it;
// - a request authenticated with an API key spends its cost in points of that key's
//   limit (its override, or 1,000/h secret, 100/h publishable); verifyApiKey is
//   free, so a backend can verify its customers' keys at full speed;
// - every signIn and signUp call (each alias) spends one of the caller IP's attempts
//   (KEYWARD_AUTH_RATE_LIMIT per 10 min), whatever credential the request carries.
// The decision shown to the caller (X-RateLimit-*) is left in ctx.meta.rateLimit.
// One function for both ways a document runs: Yoga's plugin and the edge's runner.

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

export interface Operation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

const tooExpensive = (message: string): Failure => ({
  code: "validation_failed",
  message: `${message} Ask for smaller pages (first/last) or split the request.`,
});

/** The decision to show in the headers: a refusal, else the one with the fewest left. */
function shown(decisions: RateDecision[]): RateDecision | undefined {
  return decisions.find((d) => !d.allowed) ?? [...decisions].sort((a, b) => a.remaining - b.remaining)[0];
}

/** What the operation costs (a runner may keep it for a document when it is not `variable`). */
export const measureCost = (operation: Operation): Measure => measure(operation, COST_RULES);

/** True when running the operation spends no caller's points (it costs 0 and signs nobody in or up). */
export const chargesNothing = (measured: Measure): boolean =>
  measured.cost === 0 && !measured.rootFields.some((field) => AUTH.has(field));

/** Spends what the operation costs its caller; a failure means it must not run. */
export async function chargeCaller(
  ctx: Context,
  operation: Operation,
  measured: Measure = measureCost(operation),
): Promise<Failure | null> {
  const { cost, rootFields } = measured;
  if (cost > MAX_REQUEST_COST) {
    return tooExpensive(
      Number.isFinite(cost)
        ? `This request would cost ${cost} points; one request may cost at most ${MAX_REQUEST_COST}.`
        : `This request would cost more than ${MAX_REQUEST_COST} points, or select more than ${COST_RULES.maxFields} fields or ${COST_RULES.maxDepth} levels with its fragments expanded.`,
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
      return tooExpensive(
        `This request costs ${cost} points, more than this key's whole limit of ${limit.limit} per ${limit.windowSeconds} s.`,
      );
    }
    if (cost > 0) decisions.push(await ctx.keys.limits.consume("key", p.key.id, limit, cost));
    // A refused request is not a use of the key.
    if (decisions.every((d) => d.allowed)) ctx.keys.usage.touch(p.key.id, ctx.now);
  }
  const decision = shown(decisions);
  if (!decision) return null;
  ctx.meta.rateLimit = decision;
  if (decision.allowed) return null;
  return {
    code: "rate_limit_exceeded",
    message: `Rate limit of ${decision.limit} per window exceeded; retry in ${decision.retryAfterSeconds} s.`,
  };
}

/** X-RateLimit-* (and Retry-After on a refusal) for a decision. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "x-ratelimit-limit": String(decision.limit),
    "x-ratelimit-remaining": String(decision.remaining),
    "x-ratelimit-reset": String(Math.ceil(decision.resetAt.getTime() / 1000)),
  };
  if (!decision.allowed) headers["retry-after"] = String(decision.retryAfterSeconds);
  return headers;
}
