import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSecretBox, loadMasterKeys, masterKeyFiles, masterKeyId } from "../../server/keys/secret-box";

// The master keyring (server/keys/secret-box.ts): the current key seals, every
// key in the ring opens, a sealed value names its key, and values from before key
// ids are still opened by whichever key sealed them.

const A = randomBytes(32);
const B = randomBytes(32);
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "keyward-ring-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("the master keyring", () => {
  it("seals under the current key's id; after rotate, new values are under B and A's still open", () => {
    const box = createSecretBox(A);
    const underA = box.seal("signing key");
    expect(underA.startsWith(`${masterKeyId(A)}.`)).toBe(true);
    box.rotate(B);
    const underB = box.seal("signing key");
    expect(underB.startsWith(`${masterKeyId(B)}.`)).toBe(true);
    expect(box.currentId()).toBe(masterKeyId(B));
    expect([box.open(underA), box.open(underB)]).toEqual(["signing key", "signing key"]);
    expect(createSecretBox(B).open(underA)).toBeNull();
  });

  it("a value from before key ids opens under whichever key of the ring sealed it", () => {
    const legacy = (createSecretBox(A).seal("replay").split(".")[1] ?? "") as string;
    expect(createSecretBox({ current: B, previous: [A] }).open(legacy)).toBe("replay");
    expect(createSecretBox(B).open(legacy)).toBeNull();
  });

  it("a value naming a key the ring lacks is not tried under the others, and a forged id opens nothing", () => {
    const sealed = createSecretBox(A).seal("secret");
    const body = sealed.split(".")[1] ?? "";
    expect(createSecretBox(B).open(sealed)).toBeNull();
    // A's ciphertext relabelled with B's id: B cannot open it, and A is not asked.
    expect(createSecretBox({ current: B, previous: [A] }).open(`${masterKeyId(B)}.${body}`)).toBeNull();
  });

  it("the key id reveals nothing usable: 8 characters, different for different keys", () => {
    expect(masterKeyId(A)).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(masterKeyId(A)).not.toBe(masterKeyId(B));
    expect(A.toString("base64url")).not.toContain(masterKeyId(A));
  });

  it("loadMasterKeys: KEYWARD_MASTER_KEY_PREVIOUS and the data directory's .previous and .next files open", () => {
    const dataDir = tempDir();
    const files = masterKeyFiles(dataDir);
    const C = randomBytes(32);
    writeFileSync(files.current, `${A.toString("base64")}\n`, { mode: 0o600 });
    writeFileSync(files.previous, `${B.toString("base64")}\n`, { mode: 0o600 });
    writeFileSync(files.next, `${C.toString("base64")}\n`, { mode: 0o600 });
    const D = randomBytes(32);
    const ring = loadMasterKeys({ masterKey: undefined, previousMasterKeys: [D.toString("base64")], dataDir });
    expect(ring.current.equals(A)).toBe(true);
    expect(ring.previous.map((key) => key.toString("hex")).sort()).toEqual(
      [B, C, D].map((key) => key.toString("hex")).sort(),
    );
    const box = createSecretBox(ring);
    for (const key of [B, C, D]) expect(box.open(createSecretBox(key).seal("x"))).toBe("x");
  });

  it("on first start the master key file is made with mode 0600", () => {
    const dataDir = tempDir();
    loadMasterKeys({ masterKey: undefined, dataDir });
    expect(statSync(masterKeyFiles(dataDir).current).mode & 0o777).toBe(0o600);
  });
});
