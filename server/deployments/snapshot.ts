import type { ApiKey } from "../generated/prisma/client";

// What a deployment stores per key, and how verification combines it with the key
// itself. A deployment holds every field a change can alter and verification reads;
// what never changes after creation (id, workspace, environment, type, hash) and what
// verification does not read (name, lastUsedAt) come from the key's own row.

/** The columns of deployment_keys besides its identity (deployment, key, hash). */
export const DEPLOYED_FIELDS = [
  "scopes",
  "allowedOrigins",
  "allowedIps",
  "expiresAt",
  "graceUntil",
  "rateLimitLimit",
  "rateLimitWindowSeconds",
  "metadata",
] as const;

export type DeployedFields = Pick<ApiKey, (typeof DEPLOYED_FIELDS)[number]>;

/** Prisma's select for exactly the deployed fields. */
export const DEPLOYED_SELECT = Object.fromEntries(DEPLOYED_FIELDS.map((field) => [field, true])) as {
  [K in (typeof DEPLOYED_FIELDS)[number]]: true;
};

/**
 * One key as a deployment published it. `apply` returns the key verification
 * sees, built once per row of the key this process holds: the warm path reuses it
 * rather than copying a key per request.
 */
export class DeployedKey {
  private live: ApiKey | undefined;
  private seen: ApiKey | undefined;

  constructor(private readonly fields: DeployedFields) {}

  apply(live: ApiKey): ApiKey {
    if (this.live !== live || !this.seen) {
      // A deployment lists only keys that were not revoked when it was published;
      // a revocation made since is pending until the next one (immediate ones are
      // refused before this is reached).
      this.seen = { ...live, ...this.fields, revokedAt: null, revokedReason: null };
      this.live = live;
    }
    return this.seen;
  }
}

/** Which deployment a workspace's verification answers from, when it requires deploys. */
export interface DeploymentPointer {
  id: string;
  version: number;
}
