import type { Actor } from "../audit/log";
import type { Failure } from "../errors";
import type { Environment } from "../generated/prisma/client";
import { ALL_SCOPES, holdsScope, isReadScope, isServiceScope } from "./scopes";

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

export function checkShape(settings: KeySettings): Failure | null {
  if (settings.type === "PUBLISHABLE") {
    const write = settings.scopes.find((scope) => !isReadScope(scope));
    if (write) {
      return {
        code: "validation_failed",
        message: `scopes: publishable keys are read-only and cannot hold ${write}`,
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
