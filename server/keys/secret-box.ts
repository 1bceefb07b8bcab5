import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

// AES-256-GCM under the server's master key, for the few secrets Keyward must be
// able to read back (idempotent replays of a created key for 24 h). The master key
// comes from KEYWARD_MASTER_KEY, or a 0600 file made in the data directory on first start.

export interface SecretBox {
  seal(plaintext: string): string;
  /** null when the text was sealed under another key or was tampered with. */
  open(sealed: string): string | null;
}

export function loadMasterKey(options: { masterKey: string | undefined; dataDir: string }): Buffer {
  if (options.masterKey) return Buffer.from(options.masterKey, "base64");
  const file = path.join(options.dataDir, "master.key");
  try {
    return Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = randomBytes(32);
  mkdirSync(options.dataDir, { recursive: true });
  // "wx": never overwrite a key another process just wrote.
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return key;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error("the master key must be 32 bytes");
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    open(sealed) {
      try {
        const raw = Buffer.from(sealed, "base64url");
        // An explicit tag length: otherwise Node accepts a truncated tag (DEP0182).
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12), { authTagLength: 16 });
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        return null;
      }
    },
  };
}
