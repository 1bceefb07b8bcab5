import type { Failure } from "../errors";
import { ipAllowed } from "./ips";
import { originAllowed } from "./origins";

// A key's state and whether it may be used now. Pure: the caller supplies the
// clock, the request's Origin and IP. The order of checks is the contract:
// revoked → not deployed → workspace switch → expired (incl. roll grace) → origin / IP.

export type KeyStatus = "ACTIVE" | "ROLLING" | "EXPIRED" | "REVOKED";

export interface KeyState {
  type: "SECRET" | "PUBLISHABLE";
  revokedAt: Date | null;
  expiresAt: Date | null;
  graceUntil: Date | null;
  allowedOrigins: readonly string[];
  allowedIps: readonly string[];
}

export function keyStatus(key: Pick<KeyState, "revokedAt" | "expiresAt" | "graceUntil">, now: Date): KeyStatus {
  if (key.revokedAt) return "REVOKED";
  if (key.expiresAt && key.expiresAt <= now) return "EXPIRED";
  if (key.graceUntil) return key.graceUntil <= now ? "EXPIRED" : "ROLLING";
  return "ACTIVE";
}

export interface UseContext {
  now: Date;
  keysEnabled: boolean;
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
