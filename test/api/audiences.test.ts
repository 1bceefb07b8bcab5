import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_AUDIENCES, MAX_DEPTH } from "../../server/audience/tree";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// The audience tree through the API: shape and paths, the rules on names, depth,
// size and deletion, who may read and change it, its audit trail, and tenancy —
// another workspace's audience answers not_found, like one that does not exist.

let app: TestApp;
type Person = Awaited<ReturnType<typeof signUpUser>>;
let owner: Person;
let member: Person;
let stranger: Person;
let ws: string;
let strangerWs: string;

let slugs = 0;
const slug = (label: string) => `${label}-${process.pid}-${++slugs}`;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "tree-owner");
  member = await signUpUser(app, "tree-member");
  stranger = await signUpUser(app, "tree-stranger");
  ws = (await owner.client.createWorkspace({ input: { name: "Tree", slug: slug("tree") } })).createWorkspace.id;
  await owner.client.addMember({ input: { workspaceId: ws, email: member.email, role: "MEMBER" } });
  strangerWs = (await stranger.client.createWorkspace({ input: { name: "Other", slug: slug("other") } }))
    .createWorkspace.id;
});
afterAll(() => app.close());

const create = (name: string, parent?: string, by = owner, workspaceId = ws) =>
  by.client.createAudience({ input: { workspaceId, name, parent } }).then((r) => r.createAudience);

describe("the tree", () => {
  it("answers each audience's parent and path to the root, and lists roots before their subtrees", async () => {
    await create("enterprise");
    const child = await create("enterprise_b", "enterprise");
    expect(child).toMatchObject({ name: "enterprise_b", parent: "enterprise", path: ["enterprise_b", "enterprise"] });
    await create("team-1.eu", "enterprise_b");
    await create("acme");
    const { audiences } = await member.client.audiences({ workspaceId: ws });
    expect(audiences.map((node) => node.path.join("<"))).toEqual([
      "acme",
      "enterprise",
      "enterprise_b<enterprise",
      "team-1.eu<enterprise_b<enterprise",
    ]);
  });

  it.each([
    ["", "empty"],
    ["has space", "a space"],
    ["-leading", "a leading hyphen"],
    ["é", "a non-ASCII letter"],
    ["a".repeat(65), "65 characters"],
    ["x/y", "a slash"],
  ])("refuses the name %j (%s) as validation_failed on name", async (name) => {
    expect((await expectCode(create(name), "validation_failed")).field).toBe("name");
  });

  it("refuses a second audience of the same name, even under another parent", async () => {
    await create("dup");
    expect((await expectCode(create("dup", "acme"), "validation_failed")).field).toBe("name");
  });

  it("a parent that does not exist is not_found on parent", async () => {
    expect((await expectCode(create("orphan", "nowhere"), "not_found")).field).toBe("parent");
  });

  it(`a tree is at most ${MAX_DEPTH} levels deep`, async () => {
    let parent: string | undefined;
    for (let level = 1; level <= MAX_DEPTH; level++) parent = (await create(`deep${level}`, parent)).name;
    expect((await expectCode(create("too_deep", parent), "validation_failed")).field).toBe("parent");
  });

  it(`a workspace holds at most ${MAX_AUDIENCES} audiences`, async () => {
    const full = (await owner.client.createWorkspace({ input: { name: "Full", slug: slug("full") } })).createWorkspace;
    const rows = Array.from({ length: MAX_AUDIENCES - 1 }, (_, i) => ({ workspaceId: full.id, name: `n${i}` }));
    await app.db.audience.createMany({ data: rows });
    await create("last", undefined, owner, full.id);
    expect((await expectCode(create("one_more", undefined, owner, full.id), "validation_failed")).field).toBe("name");
  });

  it("renames a node, and its children follow; a taken name is refused", async () => {
    const node = await create("old_name");
    await create("kid", "old_name");
    const { renameAudience } = await owner.client.renameAudience({ input: { id: node.id, name: "new_name" } });
    expect(renameAudience).toMatchObject({ id: node.id, name: "new_name", path: ["new_name"] });
    const { audiences } = await owner.client.audiences({ workspaceId: ws });
    expect(audiences.find((a) => a.name === "kid")?.path).toEqual(["kid", "new_name"]);
    await expectCode(owner.client.renameAudience({ input: { id: node.id, name: "acme" } }), "validation_failed");
  });

  it("deletes only leaves: a node with children is refused until they go", async () => {
    const parent = await create("parent_x");
    const leaf = await create("leaf_x", "parent_x");
    expect(
      (await expectCode(owner.client.deleteAudience({ input: { id: parent.id } }), "validation_failed")).field,
    ).toBe("id");
    const { deleteAudience } = await owner.client.deleteAudience({ input: { id: leaf.id } });
    expect(deleteAudience).toMatchObject({ name: "leaf_x", path: ["leaf_x", "parent_x"] });
    await owner.client.deleteAudience({ input: { id: parent.id } });
    const { audiences } = await owner.client.audiences({ workspaceId: ws });
    expect(audiences.map((a) => a.name)).not.toContain("parent_x");
    await expectCode(owner.client.deleteAudience({ input: { id: parent.id } }), "not_found");
  });

  it("every change is audited with what changed", async () => {
    const node = await create("audited", "acme");
    await owner.client.renameAudience({ input: { id: node.id, name: "audited2" } });
    await owner.client.deleteAudience({ input: { id: node.id } });
    const events = await app.db.auditEvent.findMany({ where: { targetId: node.id }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.actorId, e.data])).toEqual([
      ["audience.create", owner.user.id, { name: "audited", parent: "acme" }],
      ["audience.rename", owner.user.id, { from: "audited", to: "audited2" }],
      ["audience.delete", owner.user.id, { name: "audited2", parent: "acme" }],
    ]);
  });
});

describe("requireAudienceToken", () => {
  it("an OWNER turns it on and off, audited; the workspace shows it; a MEMBER may not", async () => {
    const set = (by: Person, required: boolean) =>
      by.client.setRequireAudienceToken({ input: { workspaceId: ws, required } });
    expect((await set(owner, true)).setRequireAudienceToken.requireAudienceToken).toBe(true);
    expect((await member.client.workspace({ id: ws })).workspace?.requireAudienceToken).toBe(true);
    await expectCode(set(member, false), "insufficient_permissions");
    expect((await set(owner, false)).setRequireAudienceToken.requireAudienceToken).toBe(false);
    const events = await app.db.auditEvent.findMany({
      where: { workspaceId: ws, action: "workspace.require_audience_token" },
      orderBy: { seq: "asc" },
    });
    expect(events.map((e) => e.data)).toEqual([{ required: true }, { required: false }]);
  });
});

describe("tenancy: another workspace's audiences answer not_found", () => {
  it("its tree, its audiences by id and its audiences as a parent are all not_found", async () => {
    const theirs = await create("theirs_only", undefined, stranger, strangerWs);
    await expectCode(owner.client.audiences({ workspaceId: strangerWs }), "not_found");
    await expectCode(owner.client.renameAudience({ input: { id: theirs.id, name: "mine" } }), "not_found");
    await expectCode(owner.client.deleteAudience({ input: { id: theirs.id } }), "not_found");
    expect((await expectCode(create("child", "theirs_only"), "not_found")).field).toBe("parent");
    // Exactly as for an id that does not exist, or is not an id at all.
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const missing = await expectCode(owner.client.deleteAudience({ input: { id } }), "not_found");
      const foreign = await expectCode(owner.client.deleteAudience({ input: { id: theirs.id } }), "not_found");
      expect({ ...foreign, stack: undefined }).toEqual({ ...missing, stack: undefined });
    }
    const { audiences } = await stranger.client.audiences({ workspaceId: strangerWs });
    expect(audiences.map((a) => a.name)).toEqual(["theirs_only"]);
  });

  it("an anonymous or bad-token caller probing audience ids is told to sign in, whether the id exists or not", async () => {
    const real = (await create("probed")).id;
    for (const client of [app.client(), app.client("kws_not-a-session")]) {
      for (const id of [real, randomUUID(), "not-a-uuid"]) {
        await expectCode(client.deleteAudience({ input: { id } }), "authentication_required");
      }
    }
  });

  it("a publishable key probing audience ids is refused as one, whether the id exists or not", async () => {
    const real = (await create("probed_by_pk")).id;
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId: ws,
        name: "widget",
        type: "PUBLISHABLE",
        environment: "LIVE",
        scopes: ["keys:read"],
        allowedOrigins: ["https://widget.example.com"],
      },
    });
    const pk = app.client(createApiKey.secret, { origin: "https://widget.example.com" });
    for (const id of [real, randomUUID()]) {
      await expectCode(pk.renameAudience({ input: { id, name: "renamed_by_pk" } }), "publishable_key_write");
    }
  });

  it("a secret key with workspace:write is told that members change audiences", async () => {
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId: ws, name: "writer", type: "SECRET", environment: "LIVE", scopes: ["workspace:write"] },
    });
    const refused = await expectCode(
      app.client(createApiKey.secret).createAudience({ input: { workspaceId: ws, name: "by_key" } }),
      "insufficient_scope",
    );
    expect(refused.message).toBe(
      "Audiences serve test and live keys alike; a workspace member (OWNER or ADMIN) must change them.",
    );
  });

  it("a secret key of another workspace gets not_found for an audience by id", async () => {
    const theirs = await create("theirs_two", undefined, stranger, strangerWs);
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId: ws, name: "scoped", type: "SECRET", environment: "LIVE", scopes: ["workspace:write"] },
    });
    await expectCode(app.client(createApiKey.secret).deleteAudience({ input: { id: theirs.id } }), "not_found");
  });
});
