import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";

// GitHub's secret scanning public keys, and the check of a report's signature
// against them: ECDSA P-256 over SHA-256, DER-encoded and base64'd in the
// Github-Public-Key-Signature header, over the exact bytes of the body. The keys
// document ({ public_keys: [{ key_identifier, key, is_current }] }) is read from
// KEYWARD_GITHUB_KEYS_URL (https:, file: or a local path), held in memory, and
// read again when a report names a key it does not hold (GitHub rotates keys) —
// at most once per REFETCH_INTERVAL_MS, so forged identifiers cannot make every
// request a fetch to GitHub.

export const REFETCH_INTERVAL_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;

const KeysDocument = z.object({
  public_keys: z.array(z.object({ key_identifier: z.string().min(1), key: z.string().min(1) })),
});

export type SignatureCheck = "valid" | "bad_signature" | "unknown_key";

export interface GithubKeys {
  /** Whether `signature` is the named key's signature of `body`. */
  check(keyId: string, signature: string, body: Uint8Array): Promise<SignatureCheck>;
}

async function readDocument(url: string): Promise<string> {
  if (url.startsWith("https:") || url.startsWith("http:")) {
    const response = await fetch(url, {
      headers: { accept: "application/json", "user-agent": "keyward" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`GitHub public keys: HTTP ${response.status}`);
    return response.text();
  }
  return readFile(url.startsWith("file:") ? fileURLToPath(url) : url, "utf8");
}

/** The document's P-256 keys by identifier; any other kind of key is left out, never trusted. */
function parseKeys(text: string): Map<string, KeyObject> {
  const document = KeysDocument.parse(JSON.parse(text));
  const keys = new Map<string, KeyObject>();
  for (const entry of document.public_keys) {
    const key = createPublicKey(entry.key);
    if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
      keys.set(entry.key_identifier, key);
    }
  }
  return keys;
}

export function githubKeys(url: string, clock: () => Date): GithubKeys {
  let keys: Map<string, KeyObject> | null = null;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<Map<string, KeyObject>> | null = null;

  const load = (): Promise<Map<string, KeyObject>> => {
    // Concurrent reports share one fetch.
    loading ??= readDocument(url)
      .then(parseKeys)
      .then((fresh) => {
        keys = fresh;
        return fresh;
      })
      .finally(() => {
        fetchedAt = clock().getTime();
        loading = null;
      });
    return loading;
  };

  async function keyFor(keyId: string): Promise<KeyObject | undefined> {
    const held = keys ?? (await load());
    const key = held.get(keyId);
    if (key || clock().getTime() - fetchedAt < REFETCH_INTERVAL_MS) return key;
    return (await load()).get(keyId);
  }

  return {
    async check(keyId, signature, body) {
      const key = await keyFor(keyId);
      if (!key) return "unknown_key";
      const der = Buffer.from(signature, "base64");
      try {
        return verify("sha256", body, { key, dsaEncoding: "der" }, der) ? "valid" : "bad_signature";
      } catch {
        // Not a DER signature at all.
        return "bad_signature";
      }
    },
  };
}
