import { describe, expect, it } from "vitest";
import { generateKey } from "../../server/keys/format";
import { startTestApp } from "../helpers/app";
import { keysDocument, match, scanningKey, signedBy } from "../helpers/github-scanning";
import { expectRestError } from "../helpers/rest-suite";

// Where POST /leaks/github gets GitHub's public keys (KEYWARD_GITHUB_KEYS_URL): read
// again when GitHub rotates, but not on every forged identifier, and only P-256 keys
// of the document are trusted.

describe("GitHub's public keys", () => {
  it("are read again when a report names a key GitHub published since (at most once a minute)", async () => {
    const local = keysDocument([scanningKey("old")]);
    const other = await startTestApp({ KEYWARD_GITHUB_KEYS_URL: local.url });
    try {
      const body = JSON.stringify([match(generateKey("SECRET", "LIVE"))]);
      // Loads the document as it is now.
      const first = await other.fetch("/leaks/github", {
        method: "POST",
        headers: signedBy(scanningKey("old"), body),
        body,
      });
      await expectRestError(first, "invalid_signature", "Github-Public-Key-Signature");
      const rotated = scanningKey("new");
      local.publish([rotated]);
      const soon = await other.fetch("/leaks/github", { method: "POST", headers: signedBy(rotated, body), body });
      await expectRestError(soon, "invalid_signature", "Github-Public-Key-Identifier");
      other.clock.advance(61_000);
      const later = await other.fetch("/leaks/github", { method: "POST", headers: signedBy(rotated, body), body });
      expect(later.status).toBe(200);
      expect(((await later.json()) as Array<{ label: string }>)[0]?.label).toBe("false_positive");
    } finally {
      await other.close();
    }
  });

  it("trust only P-256 keys: a document key on another curve signs nothing", async () => {
    const p384 = scanningKey("p384", "secp384r1");
    const local = keysDocument([p384]);
    const other = await startTestApp({ KEYWARD_GITHUB_KEYS_URL: local.url });
    try {
      const body = JSON.stringify([match(generateKey("SECRET", "LIVE"))]);
      const response = await other.fetch("/leaks/github", { method: "POST", headers: signedBy(p384, body), body });
      await expectRestError(response, "invalid_signature", "Github-Public-Key-Identifier");
    } finally {
      await other.close();
    }
  });
});
