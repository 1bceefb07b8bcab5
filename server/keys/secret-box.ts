import { createCipheriv, createDecipheriv, hash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

// AES-256-GCM under the server's master key, for the few secrets Keyward must be
// able to read back (signing keys, webhook secrets, idempotent replays of a
// created key for 24 h). The master key comes from KEYWARD_MASTER_KEY, or a 0600
// file made in the data directory on first start.
//
// A keyring, so the master key can be rotated without downtime: the current key
// seals, every key opens (KEYWARD_MASTER_KEY_PREVIOUS, master.key.previous and a
// rotation's master.key.next), and a sealed value names its key by an id (8
// characters of a SHA-256 of the key, which says nothing about the key itself).
// Values sealed before key ids existed carry none and are tried under each key.
// `npm run admin -- rotate-master-key` (keys/reseal.ts) re-seals the rest.

export interface SecretBox {
  seal(plaintext: string): string;
  /** null when the text was sealed under a key not in the ring or was tampered with. */
  open(sealed: string): string | null;
}

/** The box as the server holds it, for rotate-master-key. */
export interface MasterKeyring extends SecretBox {
  /** The id of the key that seals; values sealed under it begin `<id>.`. */
  currentId(): string;
  /** Seals with `next` from now on; the keys held so far still open. */
  rotate(next: Buffer): void;
}

export interface MasterKeys {
  current: Buffer;
  /** Keys that open but never seal. */
  previous: Buffer[];
}

export const masterKeyFiles = (dataDir: string) => ({
  current: path.join(dataDir, "master.key"),
  previous: path.join(dataDir, "master.key.previous"),
  next: path.join(dataDir, "master.key.next"),
});

const decode = (text: string) => Buffer.from(text.trim(), "base64");

function readKeyFile(file: string): Buffer | null {
  try {
    return decode(readFileSync(file, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Writes a new key file readable by its owner only; never over an existing one. */
export function writeKeyFile(file: string, key: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // "wx": never overwrite a key another process just wrote.
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
}

export function loadMasterKey(options: { masterKey: string | undefined; dataDir: string }): Buffer {
  if (options.masterKey) return decode(options.masterKey);
  const file = masterKeyFiles(options.dataDir).current;
  const existing = readKeyFile(file);
  if (existing) return existing;
  const key = randomBytes(32);
  writeKeyFile(file, key);
  return key;
}

/** The current key and every key that still opens (see the note at the top). */
export function loadMasterKeys(options: {
  masterKey: string | undefined;
  previousMasterKeys?: readonly string[];
  dataDir: string;
}): MasterKeys {
  const current = loadMasterKey(options);
  const files = masterKeyFiles(options.dataDir);
  const previous = [
    ...(options.previousMasterKeys ?? []).map(decode),
    ...[readKeyFile(files.previous), readKeyFile(files.next)].filter((key): key is Buffer => key !== null),
  ];
  return { current, previous };
}

export function masterKeyId(key: Buffer): string {
  return hash("sha256", Buffer.concat([Buffer.from("keyward master key id\0"), key]), "base64url").slice(0, 8);
}

function sealWith(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

function openWith(key: Buffer, sealed: string): string | null {
  try {
    const raw = Buffer.from(sealed, "base64url");
    // An explicit tag length: otherwise Node accepts a truncated tag (DEP0182).
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12), { authTagLength: 16 });
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

const checked = (key: Buffer) => {
  if (key.length !== 32) throw new Error("the master key must be 32 bytes");
  return key;
};

export function createSecretBox(keys: Buffer | MasterKeys): MasterKeyring {
  const ring = Buffer.isBuffer(keys) ? { current: keys, previous: [] } : keys;
  let current = checked(ring.current);
  let currentId = masterKeyId(current);
  const byId = new Map<string, Buffer>();
  for (const key of [current, ...ring.previous]) byId.set(masterKeyId(checked(key)), key);
  return {
    seal: (plaintext) => `${currentId}.${sealWith(current, plaintext)}`,
    open(sealed) {
      const dot = sealed.indexOf(".");
      if (dot !== -1) {
        const key = byId.get(sealed.slice(0, dot));
        return key ? openWith(key, sealed.slice(dot + 1)) : null;
      }
      // Sealed before key ids: whichever key opens it (GCM refuses the others).
      for (const key of byId.values()) {
        const opened = openWith(key, sealed);
        if (opened !== null) return opened;
      }
      return null;
    },
    currentId: () => currentId,
    rotate(next) {
      current = checked(next);
      currentId = masterKeyId(current);
      byId.set(currentId, current);
    },
  };
}
