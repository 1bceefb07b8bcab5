import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditHash, type ChainedContent, checkChain, GENESIS_HASH } from "../../server/audit/chain";

// The chain as pure functions: a well-formed chain passes, and any change to any
// hashed field of any row (or to a stored hash) is reported at that row.

type Row = ChainedContent & { seq: bigint; hash: string };
type Content = Omit<ChainedContent, "prevHash">;

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown>;

const contentArb: fc.Arbitrary<Content> = fc.record({
  id: fc.uuid(),
  workspaceId: fc.option(fc.uuid(), { nil: null }),
  actorType: fc.constantFrom("user", "api_key", "system"),
  actorId: fc.option(fc.uuid(), { nil: null }),
  action: fc.constantFrom("workspace.create", "member.add", "member.update_role", "member.remove", "user.sign_up"),
  targetType: fc.constantFrom("user", "workspace", "api_key"),
  targetId: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
  ip: fc.option(fc.ipV4(), { nil: null }),
  data: fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 5 }),
  createdAt: fc.date({
    min: new Date("2000-01-01T00:00:00Z"),
    max: new Date("2100-01-01T00:00:00Z"),
    noInvalidDate: true,
  }),
});

/** Links contents into a valid chain, the way recordAudit does. */
function buildChain(contents: Content[], start = GENESIS_HASH, firstSeq = 1n): Row[] {
  const rows: Row[] = [];
  let prev = start;
  contents.forEach((content, i) => {
    const chained = { ...content, prevHash: prev };
    const hash = auditHash(chained);
    rows.push({ ...chained, seq: firstSeq + BigInt(i), hash });
    prev = hash;
  });
  return rows;
}

const sample = (n: number): Content[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    workspaceId: i % 3 === 0 ? null : "11111111-1111-4111-8111-111111111111",
    actorType: "user",
    actorId: i % 4 === 0 ? null : "22222222-2222-4222-8222-222222222222",
    action: "member.add",
    targetType: "user",
    targetId: i % 5 === 0 ? null : `target-${i}`,
    ip: i % 2 === 0 ? "203.0.113.7" : null,
    data: { role: "MEMBER", n: i, nested: { a: [1, 2, { b: null }] } },
    createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, i)),
  }));

/** Every way to change one field of a row (the stored hash included). */
const MUTATIONS: [string, (row: Row) => Partial<Row>][] = [
  ["id", (r) => ({ id: r.id.replace(/.$/, (c) => (c === "0" ? "1" : "0")) })],
  ["workspaceId (value ↔ null)", (r) => ({ workspaceId: r.workspaceId === null ? r.id : null })],
  ["workspaceId (other value)", (r) => ({ workspaceId: `${r.workspaceId ?? ""}x` })],
  ["actorType", (r) => ({ actorType: r.actorType === "system" ? "user" : "system" })],
  ["actorId (value ↔ null)", (r) => ({ actorId: r.actorId === null ? r.id : null })],
  ["actorId (other value)", (r) => ({ actorId: `${r.actorId ?? ""}x` })],
  ["action", (r) => ({ action: `${r.action}.forged` })],
  ["targetType", (r) => ({ targetType: `${r.targetType}x` })],
  ["targetId (value ↔ null)", (r) => ({ targetId: r.targetId === null ? "someone" : null })],
  ["targetId (other value)", (r) => ({ targetId: `${r.targetId ?? ""}x` })],
  ["ip (value ↔ null)", (r) => ({ ip: r.ip === null ? "198.51.100.1" : null })],
  ["ip (other value)", (r) => ({ ip: `${r.ip ?? ""}1` })],
  ["ip (null → empty string)", (r) => ({ ip: r.ip === null ? "" : null })],
  ["data (added key)", (r) => ({ data: { ...(r.data as object), forged: true } })],
  ["data (null)", (r) => ({ data: Object.keys(r.data as object).length ? {} : null })],
  ["data (string instead of object)", (r) => ({ data: JSON.stringify(r.data) })],
  ["createdAt (+1 ms)", (r) => ({ createdAt: new Date(r.createdAt.getTime() + 1) })],
  ["createdAt (-1 s)", (r) => ({ createdAt: new Date(r.createdAt.getTime() - 1000) })],
  ["prevHash", (r) => ({ prevHash: r.prevHash.replace(/^./, (c) => (c === "a" ? "b" : "a")) })],
  ["hash", (r) => ({ hash: r.hash.replace(/^./, (c) => (c === "a" ? "b" : "a")) })],
];

function mutate(rows: Row[], index: number, change: (row: Row) => Partial<Row>): Row[] {
  return rows.map((row, i) => (i === index ? { ...row, ...change(row) } : row));
}

describe("auditHash", () => {
  it("is a 64-character lowercase hex SHA-256", () => {
    const [row] = buildChain(sample(1));
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not depend on the key order of data, at any depth", () => {
    const base = sample(1)[0] as Content;
    const one = { ...base, prevHash: GENESIS_HASH, data: { a: 1, b: { c: 2, d: [1, { e: 3, f: 4 }] }, g: null } };
    const two = { ...base, prevHash: GENESIS_HASH, data: { g: null, b: { d: [1, { f: 4, e: 3 }], c: 2 }, a: 1 } };
    expect(auditHash(one)).toBe(auditHash(two));
    fc.assert(
      fc.property(contentArb, (content) => {
        const data = content.data as Record<string, unknown>;
        const reversed = Object.fromEntries(Object.entries(data).reverse());
        const row = { ...content, prevHash: GENESIS_HASH };
        expect(auditHash({ ...row, data: reversed })).toBe(auditHash(row));
      }),
      { numRuns: 100 },
    );
  });

  it("does depend on the order of array elements inside data", () => {
    const base = { ...(sample(1)[0] as Content), prevHash: GENESIS_HASH };
    expect(auditHash({ ...base, data: { list: [1, 2] } })).not.toBe(auditHash({ ...base, data: { list: [2, 1] } }));
  });

  it("tells fields apart: moving a value from one field to another changes the hash", () => {
    const base = { ...(sample(1)[0] as Content), prevHash: GENESIS_HASH, actorId: "x", targetId: null };
    expect(auditHash(base)).not.toBe(auditHash({ ...base, actorId: null, targetId: "x" }));
  });
});

describe("checkChain", () => {
  it("accepts an empty chain", () => {
    expect(checkChain([])).toEqual({ ok: true, checked: 0 });
  });

  it("accepts any generated valid chain and counts its rows", () => {
    fc.assert(
      fc.property(fc.array(contentArb, { maxLength: 12 }), (contents) => {
        expect(checkChain(buildChain(contents))).toEqual({ ok: true, checked: contents.length });
      }),
      { numRuns: 150 },
    );
  });

  it("continues from a previous hash and count, as batched verification does", () => {
    const rows = buildChain(sample(10));
    const split = 4;
    const tail = rows.slice(split);
    const previous = rows[split - 1]?.hash;
    expect(checkChain(tail, previous, split)).toEqual({ ok: true, checked: 10 });
    // Starting the tail from genesis is a broken link at its first row.
    expect(checkChain(tail)).toMatchObject({ ok: false, checked: 0, id: rows[split]?.id, reason: "broken_link" });
  });

  for (const [name, change] of MUTATIONS) {
    it(`notices a changed ${name} in any row`, () => {
      const rows = buildChain(sample(6));
      for (let index = 0; index < rows.length; index++) {
        const tampered = mutate(rows, index, change);
        const target = rows[index] as Row;
        expect(tampered[index]).not.toEqual(target);
        const result = checkChain(tampered);
        // Reported under the id the row has now (for a changed id, the forged one).
        expect(result, `${name} at row ${index}`).toEqual({
          ok: false,
          checked: index,
          seq: target.seq,
          id: tampered[index]?.id,
          reason: expect.any(String),
        });
        if (result.ok) continue;
        expect(result.reason).toBe(name === "prevHash" ? "broken_link" : "hash_mismatch");
      }
    });
  }

  it("notices any single-field change in generated chains", () => {
    fc.assert(
      fc.property(
        fc.array(contentArb, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.constantFrom(...MUTATIONS),
        (contents, at, [, change]) => {
          const rows = buildChain(contents);
          const index = at % rows.length;
          const result = checkChain(mutate(rows, index, change));
          expect(result.ok).toBe(false);
          expect(result.checked).toBe(index);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("notices a deleted row (broken_link at the next row) but not a cut-off tail", () => {
    const rows = buildChain(sample(6));
    for (let index = 0; index < rows.length - 1; index++) {
      const without = rows.filter((_, i) => i !== index);
      expect(checkChain(without)).toEqual({
        ok: false,
        checked: index,
        seq: rows[index + 1]?.seq,
        id: rows[index + 1]?.id,
        reason: "broken_link",
      });
    }
    // Truncating the end leaves a valid (shorter) chain: only a count kept elsewhere can tell.
    expect(checkChain(rows.slice(0, 5))).toEqual({ ok: true, checked: 5 });
  });

  it("notices two rows swapped", () => {
    const rows = buildChain(sample(6));
    const swapped = [...rows];
    [swapped[2], swapped[3]] = [swapped[3] as Row, swapped[2] as Row];
    expect(checkChain(swapped)).toMatchObject({ ok: false, checked: 2, id: rows[3]?.id, reason: "broken_link" });
  });

  it("notices a row inserted in the middle, even one with a self-consistent hash", () => {
    const rows = buildChain(sample(6));
    const forged = buildChain(
      [{ ...(sample(7)[6] as Content), action: "member.forged" }],
      rows[2]?.hash,
      99n,
    )[0] as Row;
    const inserted = [...rows.slice(0, 3), forged, ...rows.slice(3)];
    expect(checkChain(inserted)).toMatchObject({ ok: false, checked: 4, id: rows[3]?.id, reason: "broken_link" });
  });

  it("stops at the first bad row", () => {
    const rows = buildChain(sample(8));
    const tampered = mutate(
      mutate(rows, 5, () => ({ action: "late" })),
      2,
      () => ({ action: "early" }),
    );
    expect(checkChain(tampered)).toMatchObject({ ok: false, checked: 2, id: rows[2]?.id });
  });
});
