import { describe, expect, it } from "vitest";
import type { KeyCache } from "../../server/keys/cache";
import { generateKey } from "../../server/keys/format";
import { lookupKey } from "../../server/keys/lookup";

// The lookup's answers as typed results: callers tell "malformed" from "unknown" by
// `malformed` alone, so an unknown key must say `malformed: null`, not leave it out.

const empty = {
  cachedKey: () => undefined,
  keyByHash: async () => null,
  cachedWorkspace: () => undefined,
  workspace: async () => null,
  // No imported foreign keys (keys/import.ts): a malformed key is never looked up.
  cachedImportedPrefixes: () => [],
  importedPrefixes: async () => [],
} as unknown as KeyCache;

describe("lookupKey", () => {
  it("an unknown, well-formed key is not found and not malformed", async () => {
    expect(await lookupKey(empty, generateKey("SECRET", "LIVE"))).toEqual({ found: false, malformed: null });
  });

  it("a malformed key is refused with the reason, before the cache is asked", async () => {
    const asked: string[] = [];
    const record = (hash: string) => {
      asked.push(hash);
      return undefined;
    };
    const spy = { ...empty, cachedKey: record, keyByHash: async (hash: string) => record(hash) ?? null };
    const result = await lookupKey(spy as unknown as KeyCache, "sk_live_short");
    expect(result).toEqual({
      found: false,
      malformed: expect.stringMatching(/^Invalid API key: a key is \d+ characters long/),
    });
    expect(asked).toEqual([]);
  });
});
