import type { Actor } from "../audit/log";
import type { Failure } from "../errors";
import type { ApiKey, Environment } from "../generated/prisma/client";
import type { Limit } from "./ratelimit";
import { ALL_SCOPES, holdsScope, isPublishableScope, isServiceScope } from "./scopes";

// What a caller may put on a key: no scope it does not hold itself, publishable
// keys read-only and origin-bound, and only its own environment.

export interface KeyManager {
  actor: Actor;
  workspaceId: string;
  /** Scopes the caller holds; it can grant no more. */
  held: readonly string[];
  platformAdmin: boolean;
  /** Set for key callers: they act only in their own environment. */
  environment: Environment | null;
  /** Users with keys:write may grant service scopes; keys only those they hold. */
  grantsServiceScopes: boolean;
  /** Set for key callers: their own rate limit, which no key they touch may exceed. */
  rate: Limit | null;
  /** Users with keys:write, or a key that signs audience tokens itself: may make signing keys. */
  signsTokens: boolean;
  /** Set for a key caller bound to a service: the keys it makes are bound to it too. */
  serviceId: string | null;
}

export interface KeySettings {
  type: "SECRET" | "PUBLISHABLE";
  scopes: string[];
  allowedOrigins: string[];
  allowedIps: string[];
}

/** No escalation: every scope must be one the caller itself holds. */
export function checkGrant(caller: KeyManager, scopes: readonly string[]): Failure | null {
  for (const scope of scopes) {
    if (scope === ALL_SCOPES && !caller.platformAdmin) {
      return {
        code: "insufficient_permissions",
        message: 'The "*" scope is reserved for platform admins.',
        field: "scopes",
      };
    }
    const held = isServiceScope(scope)
      ? caller.grantsServiceScopes || holdsScope(caller.held, scope)
      : holdsScope(caller.held, scope);
    if (!held) {
      return {
        code: "insufficient_permissions",
        message: `You cannot grant ${scope}: you do not hold it yourself.`,
        field: "scopes",
      };
    }
  }
  return null;
}

/**
 * No faster keys: a key caller gives no key (itself included) a larger limit or a
 * higher rate than its own, or one key could mint or update another past its own
 * limit. Users are bounded by the input rules only.
 */
export function checkRate(caller: KeyManager, rate: Limit): Failure | null {
  const own = caller.rate;
  if (!own) return null;
  // Requests per second compared by cross-multiplying, to stay in integers.
  if (rate.limit > own.limit || rate.limit * own.windowSeconds > own.limit * rate.windowSeconds) {
    return {
      code: "insufficient_permissions",
      message: `rateLimit: a key cannot give a key more than its own limit (${own.limit} per ${own.windowSeconds} s).`,
      field: "rateLimit",
    };
  }
  return null;
}

/** What a key may change about itself; limits, scopes, allowlists and expiry are someone else's call. */
const SELF_EDITABLE = new Set(["name", "metadata"]);

export function checkSelfChange(
  caller: KeyManager,
  key: Pick<ApiKey, "id">,
  changed: readonly string[],
): Failure | null {
  if (caller.actor.type !== "api_key" || caller.actor.id !== key.id) return null;
  const locked = changed.find((field) => !SELF_EDITABLE.has(field));
  if (!locked) return null;
  return {
    code: "insufficient_permissions",
    message: `${locked}: a key cannot change its own ${locked}.`,
    field: locked,
  };
}

export function checkShape(settings: KeySettings): Failure | null {
  if (settings.type === "PUBLISHABLE") {
    const refused = settings.scopes.find((scope) => !isPublishableScope(scope));
    if (refused) {
      return {
        code: "validation_failed",
        message: `scopes: publishable keys hold only keys:read and service.<slug>.read scopes, not ${refused}`,
        field: "scopes",
      };
    }
    if (settings.allowedOrigins.length === 0) {
      return {
        code: "validation_failed",
        message: "allowedOrigins: publishable keys need at least one allowed origin",
        field: "allowedOrigins",
      };
    }
    if (settings.allowedIps.length > 0) {
      return {
        code: "validation_failed",
        message: "allowedIps: IP allowlists apply to secret keys; publishable keys use allowedOrigins",
        field: "allowedIps",
      };
    }
  } else if (settings.allowedOrigins.length > 0) {
    return {
      code: "validation_failed",
      message: "allowedOrigins: origins apply to publishable keys; secret keys use allowedIps",
      field: "allowedOrigins",
    };
  }
  return null;
}

export function checkEnvironment(caller: KeyManager, environment: Environment): Failure | null {
  if (caller.environment && caller.environment !== environment) {
    return {
      code: "insufficient_scope",
      message: `A ${caller.environment} key works only with ${caller.environment} data.`,
      field: "environment",
    };
  }
  return null;
}
