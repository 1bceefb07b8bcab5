import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type AudienceRow, audienceName, buildTree, NAME_MAX, treeOrder } from "../../server/audience/tree";
import { createSecretBox, loadMasterKey } from "../../server/keys/secret-box";

// The pure parts of audience tokens: the tree's paths and order, audience names,
// and the master key that seals signing keys (made in the data directory, 0600,
// when KEYWARD_MASTER_KEY is unset).

const row = (name: string, parentId: string | null, id = randomUUID()): AudienceRow => ({
  id,
  workspaceId: "ws",
  name,
  parentId,
  createdAt: new Date(0),
});

describe("buildTree", () => {
  it("gives each node its parent's name and its path up to the root", () => {
    const root = row("enterprise", null);
    const child = row("enterprise_b", root.id);
    const grandchild = row("team_1", child.id);
    const tree = buildTree([grandchild, root, child]);
    expect(tree.get("team_1")).toMatchObject({
      parent: "enterprise_b",
      path: ["team_1", "enterprise_b", "enterprise"],
    });
    expect(tree.get("enterprise")).toMatchObject({ parent: null, path: ["enterprise"] });
  });

  it("leaves out rows whose parents are missing or loop, rather than answering a wrong path", () => {
    const a = row("a", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000001");
    const b = row("b", a.id, "00000000-0000-4000-8000-000000000002");
    const stray = row("stray", randomUUID());
    const ok = row("ok", null);
    expect([...buildTree([a, b, stray, ok]).keys()]).toEqual(["ok"]);
  });

  it("orders roots by name, each followed by its subtree", () => {
    const z = row("z", null);
    const a = row("a", null);
    const za = row("za", z.id);
    const ab = row("ab", a.id);
    const aa = row("aa", a.id);
    const aaa = row("aaa", aa.id);
    const order = treeOrder(buildTree([z, za, ab, a, aaa, aa])).map((node) => node.name);
    expect(order).toEqual(["a", "aa", "aaa", "ab", "z", "za"]);
  });
});

describe("audienceName", () => {
  it("accepts letters, digits, _ . - up to 64 characters, starting with a letter or digit (property)", () => {
    const first = fc.constantFrom(..."aZ09".split(""));
    const rest = fc.string({ unit: fc.constantFrom(..."aZ09_.-".split("")), maxLength: NAME_MAX - 1 });
    fc.assert(
      fc.property(first, rest, (head, tail) => {
        expect(audienceName.safeParse(head + tail).success).toBe(true);
      }),
    );
  });

  it.each(["", "_x", ".x", "-x", "a b", "a/b", "a:b", "é", "a\u0000", "a".repeat(NAME_MAX + 1)])(
    "refuses %j",
    (name) => {
      expect(audienceName.safeParse(name).success).toBe(false);
    },
  );
});

describe("the master key on the embedded default", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("is generated once into <data dir>/master.key with mode 0600, then read back", () => {
    dir = mkdtempSync(path.join(tmpdir(), "keyward-master-"));
    const dataDir = path.join(dir, "data");
    const first = loadMasterKey({ masterKey: undefined, dataDir });
    const file = path.join(dataDir, "master.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first).toHaveLength(32);
    expect(readFileSync(file, "utf8").trim()).toBe(first.toString("base64"));
    const again = loadMasterKey({ masterKey: undefined, dataDir });
    expect(again.equals(first)).toBe(true);
    // A copy sealed under one load opens under the next: signing keys survive restarts.
    expect(createSecretBox(again).open(createSecretBox(first).seal("sk_live_x"))).toBe("sk_live_x");
  });

  it("KEYWARD_MASTER_KEY wins, and then no file is written", () => {
    dir = mkdtempSync(path.join(tmpdir(), "keyward-master-"));
    const given = Buffer.alloc(32, 7);
    const key = loadMasterKey({ masterKey: given.toString("base64"), dataDir: dir });
    expect(key.equals(given)).toBe(true);
    expect(() => statSync(path.join(dir as string, "master.key"))).toThrow();
  });
});
