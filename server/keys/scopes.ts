import { WORKSPACE_SCOPES } from "../auth/permissions";

// The scope vocabulary: `resource:action` for Keyward itself, `service.<slug>.<action>`
// for the customer's product areas, and `*` for platform admins only.

export const ALL_SCOPES = "*";
// A service's slug: what `service.<slug>.<action>` names, and what createService accepts.
const SLUG = "[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?";
export const SERVICE_SLUG = new RegExp(`^${SLUG}$`);
const SERVICE_SCOPE = new RegExp(`^service\\.${SLUG}\\.[a-z][a-z0-9_]{0,31}$`);

export type ScopeCheck = { ok: true; scopes: string[] } | { ok: false; message: string };

export function isKnownScope(scope: string): boolean {
  return scope === ALL_SCOPES || (WORKSPACE_SCOPES as readonly string[]).includes(scope) || SERVICE_SCOPE.test(scope);
}

/** Read-only scopes and permissions (a publishable key may use no other operation). */
export function isReadScope(scope: string): boolean {
  return scope.endsWith(":read") || (SERVICE_SCOPE.test(scope) && scope.endsWith(".read"));
}

/**
 * What a publishable key may carry: reading keys and the customer's own services.
 * It lives in browsers with a forgeable Origin, so never members, audit or workspace.
 */
export function isPublishableScope(scope: string): boolean {
  return scope === "keys:read" || (SERVICE_SCOPE.test(scope) && scope.endsWith(".read"));
}

/**
 * The scopes a key actually holds. A publishable key saved before the rule above
 * may still list others; they grant nothing.
 */
export function effectiveScopes(key: { type: "SECRET" | "PUBLISHABLE"; scopes: string[] }): string[] {
  // No copy for secret keys: this runs on every verification.
  return key.type === "PUBLISHABLE" ? key.scopes.filter(isPublishableScope) : key.scopes;
}

export function isServiceScope(scope: string): boolean {
  return SERVICE_SCOPE.test(scope);
}

/** The slug of the service a scope names (`forms` for service.forms.read), or null for other scopes. */
export function serviceOfScope(scope: string): string | null {
  return SERVICE_SCOPE.test(scope) ? scope.slice(8, scope.indexOf(".", 8)) : null;
}

/** Validates and de-duplicates a requested scope list (order kept). */
export function normaliseScopes(scopes: readonly string[]): ScopeCheck {
  if (scopes.length > 100) return { ok: false, message: "at most 100 scopes" };
  const seen = new Set<string>();
  for (const scope of scopes) {
    if (!isKnownScope(scope)) {
      return {
        ok: false,
        message: `unknown scope "${scope.slice(0, 80)}": use one of ${WORKSPACE_SCOPES.join(", ")} or service.<slug>.<action>`,
      };
    }
    seen.add(scope);
  }
  return { ok: true, scopes: [...seen] };
}

/** Does a holder of `held` have `wanted`? `*` holds everything. */
export function holdsScope(held: readonly string[], wanted: string): boolean {
  return held.includes(ALL_SCOPES) || held.includes(wanted);
}
