import type { Role } from "@keyward/sdk";

// What each role may do in the dashboard, mirroring the server's role table (the
// README's). The server decides; this only hides controls a role could not use.

const KEY_MANAGERS: Role[] = ["MODERATOR", "ADMIN", "OWNER"];
const ADMINS: Role[] = ["ADMIN", "OWNER"];

export const canManageKeys = (role: Role | null | undefined) => !!role && KEY_MANAGERS.includes(role);
export const canManageMembers = (role: Role | null | undefined) => !!role && ADMINS.includes(role);

const MODERATOR_SCOPES = ["keys:read", "keys:write", "keys:verify", "members:read", "workspace:read"];
const ADMIN_SCOPES = [
  ...MODERATOR_SCOPES,
  "members:write",
  "workspace:write",
  "audit:read",
  "webhooks:read",
  "webhooks:write",
];

/** Scopes a member of this role may put on a key (one cannot grant what one does not hold). */
export function grantableScopes(role: Role | null | undefined, type: "SECRET" | "PUBLISHABLE"): string[] {
  if (!canManageKeys(role)) return [];
  if (type === "PUBLISHABLE") return ["keys:read"];
  return role === "MODERATOR" ? MODERATOR_SCOPES : ADMIN_SCOPES;
}
