import type { Failure } from "../errors";
import { ipAllowed } from "./ips";
import { originAllowed } from "./origins";
import { serviceOfScope } from "./scopes";

// A key's state and whether it may be used now. Pure: the caller supplies the
// clock, the request's Origin and IP. The order of checks is the contract:
// revoked → not deployed → workspace switch → the key's service switch → expired
// (incl. roll grace) → origin / IP. Both switches answer before expiry because both
// are turned back on; the workspace's comes first because it covers every service.

export type KeyStatus = "ACTIVE" | "ROLLING" | "EXPIRED" | "REVOKED";

export interface KeyState {
  type: "SECRET" | "PUBLISHABLE";
  revokedAt: Date | null;
  expiresAt: Date | null;
  graceUntil: Date | null;
  allowedOrigins: readonly string[];
  allowedIps: readonly string[];
  /** The service the key is bound to, if any. */
  serviceId: string | null;
}

/** A workspace's switched-off services: slug by id, and the slugs. Other services (and unknown ones) are on. */
export interface InactiveServices {
  byId: ReadonlyMap<string, string>;
  slugs: ReadonlySet<string>;
}

export const NO_INACTIVE_SERVICES: InactiveServices = { byId: new Map(), slugs: new Set() };

export function keyStatus(key: Pick<KeyState, "revokedAt" | "expiresAt" | "graceUntil">, now: Date): KeyStatus {
  if (key.revokedAt) return "REVOKED";
  if (key.expiresAt && key.expiresAt <= now) return "EXPIRED";
  if (key.graceUntil) return key.graceUntil <= now ? "EXPIRED" : "ROLLING";
  return "ACTIVE";
}

export interface UseContext {
  now: Date;
  keysEnabled: boolean;
  inactiveServices: InactiveServices;
  /** false: the workspace requires deploys and its latest deployment does not list the key. */
  deployed: boolean;
  origin: string | null;
  ip: string | null;
}

export function checkKeyUse(key: KeyState, use: UseContext): Failure | null {
  if (key.revokedAt) return { code: "invalid_api_key", message: "This API key has been revoked." };
  if (!use.deployed) {
    return {
      code: "key_not_deployed",
      message: "This API key is not in the workspace's latest deployment: it works once a deployment publishes it.",
    };
  }
  if (!use.keysEnabled) {
    return {
      code: "keys_disabled",
      message: "The workspace's key switch is off: none of its keys work until it is turned on.",
    };
  }
  const service = key.serviceId === null ? undefined : use.inactiveServices.byId.get(key.serviceId);
  if (service !== undefined) {
    return {
      code: "service_inactive",
      message: `The ${service} service is inactive: keys bound to it do not work until it is turned back on.`,
    };
  }
  if (keyStatus(key, use.now) === "EXPIRED") {
    return key.graceUntil && key.graceUntil <= use.now
      ? { code: "key_expired", message: "This API key was rolled and its grace period is over: use the new key." }
      : { code: "key_expired", message: "This API key has expired." };
  }
  if (key.type === "PUBLISHABLE" && !originAllowed(key.allowedOrigins, use.origin)) {
    return {
      code: "origin_not_allowed",
      message: use.origin
        ? `Origin ${use.origin.slice(0, 100)} is not allowed for this publishable key.`
        : "Publishable keys need an allowed Origin header.",
    };
  }
  if (key.type === "SECRET" && key.allowedIps.length > 0 && !ipAllowed(key.allowedIps, use.ip)) {
    return { code: "ip_not_allowed", message: "This secret key may not be used from your IP address." };
  }
  return null;
}

/**
 * A verification that requires a scope of a switched-off service is refused. Asked
 * only once the key holds every required scope, so whoever adds scopes to a request
 * learns nothing about services its key has no scope for.
 */
export function checkRequiredServices(required: readonly string[], inactive: InactiveServices): Failure | null {
  if (inactive.slugs.size === 0) return null;
  for (const scope of required) {
    const service = serviceOfScope(scope);
    if (service !== null && inactive.slugs.has(service)) {
      return {
        code: "service_inactive",
        message: `The ${service} service is inactive: its scopes grant nothing until it is turned back on.`,
      };
    }
  }
  return null;
}
