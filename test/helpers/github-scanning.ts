import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

// Plays GitHub's part in secret scanning reports: P-256 key pairs, the public-keys
// document Keyward reads (a local file, as KEYWARD_GITHUB_KEYS_URL allows), and
// reports signed the way GitHub signs them (ECDSA over SHA-256, DER, base64).

export interface ScanningKey {
  id: string;
  privateKey: KeyObject;
  publicPem: string;
}

export function scanningKey(id: string, curve = "prime256v1"): ScanningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  return { id, privateKey, publicPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

export interface KeysDocument {
  /** file: URL of the document, for KEYWARD_GITHUB_KEYS_URL. */
  url: string;
  /** Rewrites the document with these keys (as GitHub does when it rotates). */
  publish(keys: ScanningKey[]): void;
}

export function keysDocument(keys: ScanningKey[]): KeysDocument {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "keyward-github-keys-")), "public_keys.json");
  const publish = (current: ScanningKey[]) => {
    const public_keys = current.map((key, i) => ({ key_identifier: key.id, key: key.publicPem, is_current: i === 0 }));
    writeFileSync(file, JSON.stringify({ public_keys }));
  };
  publish(keys);
  return { url: pathToFileURL(file).href, publish };
}

export interface Match {
  token: string;
  type: string;
  url: string;
  source: string;
}

export const match = (token: string, type = "keyward_secret_key"): Match => ({
  token,
  type,
  url: "https://github.com/acme/app/blob/abc123/.env",
  source: "content",
});

/** The headers GitHub sends with `body`, signed by `key`. */
export function signedBy(key: ScanningKey, body: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "github-public-key-identifier": key.id,
    "github-public-key-signature": sign("sha256", Buffer.from(body), key.privateKey).toString("base64"),
  };
}
