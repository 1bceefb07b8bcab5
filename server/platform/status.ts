import type { Failure } from "../errors";

// A platform key's state and whether it may be used now. Pure: the caller supplies
// the clock. There is no workspace switch: a platform key belongs to no workspace.

export type PlatformKeyStatus = "ACTIVE" | "EXPIRED" | "REVOKED";

interface PlatformKeyState {
  revokedAt: Date | null;
  expiresAt: Date | null;
}

export function platformKeyStatus(key: PlatformKeyState, now: Date): PlatformKeyStatus {
  if (key.revokedAt) return "REVOKED";
  if (key.expiresAt && key.expiresAt <= now) return "EXPIRED";
  return "ACTIVE";
}

export function checkPlatformKeyUse(key: PlatformKeyState, now: Date): Failure | null {
  switch (platformKeyStatus(key, now)) {
    case "REVOKED":
      return { code: "invalid_api_key", message: "This platform key has been revoked." };
    case "EXPIRED":
      return { code: "key_expired", message: "This platform key has expired." };
    case "ACTIVE":
      return null;
  }
}
