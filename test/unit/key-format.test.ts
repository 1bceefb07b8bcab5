import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checksum,
  generateKey,
  hashKey,
  KEY_LENGTH,
  type KeyEnvironment,
  type KeyType,
  keyPrefix,
  keyStart,
  parseKey,
} from "../../server/keys/format";

// The key format (DESIGN.md "ApiKey"): {sk|pk}_{test|live}_ + 32 base64url chars
// (24 random bytes) + 6-char base62 CRC32 checksum. Every generated key parses back to
// its type and environment; anything else — one character off, cut short, padded,
// a foreign prefix — is refused with a reason before the database is asked.

const COMBOS: ReadonlyArray<{ type: KeyType; environment: KeyEnvironment; prefix: string }> = [
  { type: "SECRET", environment: "TEST", prefix: "sk_test_" },
  { type: "SECRET", environment: "LIVE", prefix: "sk_live_" },
  { type: "PUBLISHABLE", environment: "TEST", prefix: "pk_test_" },
  { type: "PUBLISHABLE", environment: "LIVE", prefix: "pk_live_" },
];

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE62_RE = /^[0-9A-Za-z]{6}$/;
// Every character a key may contain, plus a few it may not.
const REPLACEMENTS = [...new Set([...BASE64URL, ..."0123456789", "+", "/", "=", ".", " ", "é", "\u0000", "~"])];

const comboArb = fc.constantFrom(...COMBOS);
const randomArb = fc.uint8Array({ minLength: 24, maxLength: 24 }).map((bytes) => Buffer.from(bytes));
const keyArb = fc
  .tuple(comboArb, randomArb)
  .map(([combo, random]) => generateKey(combo.type, combo.environment, random));

function expectRefused(value: string): void {
  const result = parseKey(value);
  expect(result.ok, `expected ${JSON.stringify(value.slice(0, 80))} to be refused`).toBe(false);
  if (!result.ok) {
    expect(typeof result.reason).toBe("string");
    expect(result.reason.length).toBeGreaterThan(0);
  }
}

describe("KEY_LENGTH and keyPrefix", () => {
  it("is 8 prefix + 32 random + 6 checksum characters", () => {
    expect(KEY_LENGTH).toBe(46);
  });

  it.each(COMBOS)("keyPrefix($type, $environment) is $prefix", ({ type, environment, prefix }) => {
    expect(keyPrefix(type, environment)).toBe(prefix);
  });
});

describe("generateKey → parseKey", () => {
  it.each(COMBOS)("a default-random $prefix key parses as $type / $environment", ({ type, environment, prefix }) => {
    for (let i = 0; i < 50; i++) {
      const key = generateKey(type, environment);
      expect(key).toHaveLength(KEY_LENGTH);
      expect(key.startsWith(prefix)).toBe(true);
      const parsed = parseKey(key);
      expect(parsed).toEqual({
        ok: true,
        key: { type, environment, prefix, random: key.slice(8, 40) },
      });
    }
  });

  it("any 24 random bytes give a key of the right shape that parses with the right type and environment", () => {
    fc.assert(
      fc.property(comboArb, randomArb, ({ type, environment, prefix }, random) => {
        const key = generateKey(type, environment, random);
        expect(key).toHaveLength(KEY_LENGTH);
        expect(key).toMatch(/^(sk|pk)_(test|live)_[A-Za-z0-9_-]{32}[0-9A-Za-z]{6}$/);
        const parsed = parseKey(key);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.key.type).toBe(type);
        expect(parsed.key.environment).toBe(environment);
        expect(parsed.key.prefix).toBe(prefix);
        // The random part is exactly the base64url of the 24 bytes.
        expect(parsed.key.random).toBe(random.toString("base64url"));
        expect(Buffer.from(parsed.key.random, "base64url").equals(random)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("the checksum is 6 base62 characters computed over prefix + random", () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const sum = key.slice(40);
        expect(sum).toMatch(BASE62_RE);
        expect(checksum(key.slice(0, 40))).toBe(sum);
      }),
      { numRuns: 1000 },
    );
  });

  it("checksum() is always 6 base62 characters, for any input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (body) => {
        expect(checksum(body)).toMatch(BASE62_RE);
      }),
      { numRuns: 1000 },
    );
    expect(checksum("")).toBe("000000"); // CRC32 of nothing is 0, left-padded
  });

  it("the checksum covers the prefix: the same random part under another prefix has another checksum", () => {
    fc.assert(
      fc.property(randomArb, (random) => {
        const sums = COMBOS.map(({ type, environment }) => generateKey(type, environment, random).slice(40));
        expect(new Set(sums).size).toBe(COMBOS.length);
      }),
      { numRuns: 500 },
    );
  });

  it("1000 generated keys are all different", () => {
    const keys = new Set<string>();
    const randoms = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { type, environment } = COMBOS[i % COMBOS.length] as (typeof COMBOS)[number];
      const key = generateKey(type, environment);
      keys.add(key);
      randoms.add(key.slice(8, 40));
    }
    expect(keys.size).toBe(1000);
    expect(randoms.size).toBe(1000);
  });
});

describe("parseKey refuses anything that is not exactly a generated key", () => {
  it("any single-character change at any position fails (property)", () => {
    fc.assert(
      fc.property(
        keyArb,
        fc.nat({ max: KEY_LENGTH - 1 }),
        fc.constantFrom(...REPLACEMENTS),
        (key, position, replacement) => {
          fc.pre(key[position] !== replacement);
          const changed = key.slice(0, position) + replacement + key.slice(position + 1);
          expectRefused(changed);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("every single-character change of a few keys fails (exhaustive over positions × alphabet)", () => {
    for (const { type, environment } of COMBOS) {
      for (const fill of [0x00, 0xff, 0x5a]) {
        const key = generateKey(type, environment, Buffer.alloc(24, fill));
        for (let position = 0; position < KEY_LENGTH; position++) {
          for (const replacement of REPLACEMENTS) {
            if (key[position] === replacement) continue;
            const changed = key.slice(0, position) + replacement + key.slice(position + 1);
            const result = parseKey(changed);
            if (result.ok) throw new Error(`accepted ${JSON.stringify(changed)} (from ${key}, position ${position})`);
          }
        }
      }
    }
  });

  it("swapping two adjacent different characters of prefix + random fails", () => {
    fc.assert(
      fc.property(keyArb, fc.nat({ max: 38 }), (key, i) => {
        fc.pre(key[i] !== key[i + 1]);
        const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
        expectRefused(swapped);
      }),
      { numRuns: 1000 },
    );
  });

  it("truncation by any amount fails", () => {
    fc.assert(
      fc.property(keyArb, fc.integer({ min: 1, max: KEY_LENGTH }), (key, cut) => {
        expectRefused(key.slice(0, KEY_LENGTH - cut));
        expectRefused(key.slice(cut));
      }),
      { numRuns: 1000 },
    );
  });

  it("extension by any amount, at either end, fails", () => {
    const extra = fc.string({ unit: fc.constantFrom(...REPLACEMENTS), minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(keyArb, extra, (key, more) => {
        expectRefused(key + more);
        expectRefused(more + key);
      }),
      { numRuns: 1000 },
    );
  });

  it("a key with whitespace around it fails (callers must not be lenient by accident)", () => {
    const key = generateKey("SECRET", "LIVE");
    for (const variant of [` ${key}`, `${key} `, `${key}\n`, `\t${key}`, `Bearer ${key}`]) expectRefused(variant);
  });

  it.each(["sk_prod_", "SK_LIVE_", "xk_live_", "sk-live-", "Sk_live_", "pk_Test_", "sk_liv__", "sk__live"])(
    "the wrong prefix %s fails, with the original checksum and with a recomputed one",
    (wrong) => {
      expect(wrong).toHaveLength(8);
      fc.assert(
        fc.property(keyArb, (key) => {
          const random = key.slice(8, 40);
          expectRefused(wrong + key.slice(8));
          expectRefused(wrong + random + checksum(wrong + random));
        }),
        { numRuns: 200 },
      );
    },
  );

  it("a key body with a recomputed checksum but a non-base64url character fails", () => {
    const random = `${"A".repeat(31)}+`;
    expectRefused(`sk_live_${random}${checksum(`sk_live_${random}`)}`);
    const slash = `${"A".repeat(31)}/`;
    expectRefused(`sk_live_${slash}${checksum(`sk_live_${slash}`)}`);
  });

  it("the empty string fails", () => {
    expectRefused("");
  });

  it("a 10 KB string fails (and quickly)", () => {
    const key = generateKey("SECRET", "LIVE");
    const started = performance.now();
    expectRefused("a".repeat(10 * 1024));
    expectRefused(key.repeat(Math.ceil(10240 / KEY_LENGTH)));
    expectRefused(`${key}${"x".repeat(10 * 1024)}`);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("non-ASCII strings fail, including ones of exactly KEY_LENGTH UTF-16 units", () => {
    const key = generateKey("PUBLISHABLE", "TEST");
    expectRefused("é".repeat(KEY_LENGTH));
    expectRefused("😀".repeat(KEY_LENGTH / 2));
    expectRefused(`${key.slice(0, 20)}é${key.slice(21)}`);
    expectRefused(`${key.slice(0, 20)}Ａ${key.slice(21)}`); // full-width A
    expectRefused(`${key.slice(0, 44)}😀`); // one surrogate pair replaces the last two chars
    expectRefused(`${key.slice(0, 45)}\ud800`); // lone surrogate
    fc.assert(
      fc.property(
        keyArb,
        fc.nat({ max: KEY_LENGTH - 1 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }).filter((c) => /[^\x20-\x7e]/.test(c)),
        (k, position, replacement) => {
          expectRefused(k.slice(0, position) + replacement + k.slice(position + 1));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("NUL-containing strings fail", () => {
    const key = generateKey("SECRET", "TEST");
    expectRefused("\u0000".repeat(KEY_LENGTH));
    expectRefused(`${key}\u0000`);
    expectRefused(`${key.slice(0, 45)}\u0000`);
    expectRefused(`\u0000${key.slice(1)}`);
    expectRefused(`${key.slice(0, 10)}\u0000${key.slice(11)}`);
  });

  it("arbitrary strings never parse and never throw", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 120 }), (value) => {
        expectRefused(value);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 38, maxLength: 38 }), (tail) => {
        // Shape-valid strings with random checksums: the checksum must actually be checked.
        const value = `sk_live_${tail}`;
        fc.pre(checksum(value.slice(0, 40)) !== value.slice(40));
        expectRefused(value);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("hashKey", () => {
  it("is 64 lowercase hex characters and deterministic", () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const hash = hashKey(key);
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        expect(hashKey(key)).toBe(hash);
      }),
      { numRuns: 1000 },
    );
  });

  it("is SHA-256 of the whole key (changing it would orphan every stored key)", () => {
    // FIPS 180-2 test vector.
    expect(hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("differs for different keys", () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        fc.pre(a !== b);
        expect(hashKey(a)).not.toBe(hashKey(b));
      }),
      { numRuns: 1000 },
    );
  });

  it("covers the whole key: same random part under another prefix hashes differently", () => {
    fc.assert(
      fc.property(randomArb, (random) => {
        const hashes = COMBOS.map(({ type, environment }) => hashKey(generateKey(type, environment, random)));
        expect(new Set(hashes).size).toBe(COMBOS.length);
      }),
      { numRuns: 500 },
    );
  });

  it("1000 generated keys have 1000 different hashes", () => {
    const hashes = new Set<string>();
    for (let i = 0; i < 1000; i++) hashes.add(hashKey(generateKey("SECRET", "LIVE")));
    expect(hashes.size).toBe(1000);
  });
});

describe("keyStart", () => {
  it("is the prefix plus the first 4 random characters", () => {
    fc.assert(
      fc.property(comboArb, randomArb, ({ type, environment, prefix }, random) => {
        const key = generateKey(type, environment, random);
        const start = keyStart(key);
        expect(start).toHaveLength(12);
        expect(start).toBe(prefix + random.toString("base64url").slice(0, 4));
        expect(key.startsWith(start)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
