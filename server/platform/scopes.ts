import { z } from "zod";

// What a platform key may hold. Deliberately small: a platform key verifies keys and
// reads workspaces across tenants, and changes nothing. Anything else it tries is
// insufficient_scope.

export const PLATFORM_SCOPES = ["keys:verify", "workspaces:read"] as const;
export type PlatformScope = (typeof PLATFORM_SCOPES)[number];

const isPlatformScope = (scope: string): scope is PlatformScope =>
  (PLATFORM_SCOPES as readonly string[]).includes(scope);

export function holdsPlatformScope(key: { scopes: readonly string[] }, scope: PlatformScope): boolean {
  return key.scopes.includes(scope);
}

/** Validates and de-duplicates a requested list, naming the first unknown scope. */
export const platformScopesSchema = z
  .array(z.string().max(120, "scopes are at most 120 characters"))
  .transform((scopes, ctx) => {
    const unknown = scopes.find((scope) => !isPlatformScope(scope));
    if (unknown !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: `unknown platform scope "${unknown.slice(0, 80)}": use ${PLATFORM_SCOPES.join(" or ")}`,
      });
      return z.NEVER;
    }
    const unique = [...new Set(scopes)];
    if (unique.length === 0) {
      ctx.addIssue({ code: "custom", message: `give at least one of ${PLATFORM_SCOPES.join(", ")}` });
      return z.NEVER;
    }
    return unique;
  });
