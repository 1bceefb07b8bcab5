import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { SecretBox } from "../keys/secret-box";

// Standard Webhooks signing (https://www.standardwebhooks.com): the library signs,
// so any Standard Webhooks verifier accepts what Keyward sends.

/** How long a rotated-out secret keeps signing, beside the new one. */
export const ROTATION_OVERLAP_MS = 7 * 24 * 3600_000;

/** `whsec_` + base64 of 32 random bytes, the format Standard Webhooks libraries read. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export interface SigningSecrets {
  sealedSecret: string;
  previousSealedSecret: string | null;
  previousSecretUntil: Date | null;
}

/** The secrets that sign now: the current one, and the previous one during its overlap. */
export function signingSecrets(endpoint: SigningSecrets, box: SecretBox, now: Date): string[] {
  const sealed = [endpoint.sealedSecret];
  if (endpoint.previousSealedSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil > now) {
    sealed.push(endpoint.previousSealedSecret);
  }
  return sealed.map((s) => box.open(s)).filter((s): s is string => s !== null);
}

/** The three Standard Webhooks headers; several secrets give space-separated signatures. */
export function signatureHeaders(id: string, body: string, secrets: string[], now: Date): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": secrets.map((secret) => new Webhook(secret).sign(id, now, body)).join(" "),
  };
}
