import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../server/audit/log";
import { signUpUser, startTestApp, TEST_IP, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Every change leaves an audit event (who, what, on what, from where), the log
// pages newest first, and the hash chain notices tampering that gets past the
// database's own append-only trigger.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

let slugCounter = 0;
const freshSlug = (prefix: string) => `${prefix}-${process.pid}-${++slugCounter}`;

type Person = Awaited<ReturnType<typeof signUpUser>>;

async function newestEvent(workspaceId: string | null) {
  return app.db.auditEvent.findFirstOrThrow({ where: { workspaceId }, orderBy: { seq: "desc" } });
}

describe("what is recorded", () => {
  let owner: Person;
  let other: Person;
  let ws: { id: string; slug: string; name: string };

  it("user.sign_up, with no workspace", async () => {
    app.clock.advance(1000);
    owner = await signUpUser(app, "auditor");
    other = await signUpUser(app, "subject");
    const rows = await app.db.auditEvent.findMany({ where: { targetId: owner.user.id, action: "user.sign_up" } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      workspaceId: null,
      actorType: "user",
      actorId: owner.user.id,
      targetType: "user",
      targetId: owner.user.id,
      ip: TEST_IP,
    });
    expect(rows[0]?.createdAt.getTime()).toBe(app.clock.now.getTime());
    // Never the password or its hash.
    expect(JSON.stringify(rows[0]?.data)).not.toMatch(/password|argon|scrypt/i);
  });

  it("workspace.create", async () => {
    app.clock.advance(1000);
    const slug = freshSlug("audited");
    ws = (await owner.client.createWorkspace({ input: { name: "Audited Ltd", slug } })).createWorkspace;
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id });
    expect(auditEvents.totalCount).toBe(1);
    expect(auditEvents.edges[0]?.node).toMatchObject({
      action: "workspace.create",
      actorType: "user",
      actorId: owner.user.id,
      targetType: "workspace",
      targetId: ws.id,
      ip: TEST_IP,
      data: { slug, name: "Audited Ltd" },
      createdAt: app.clock.now.toISOString(),
    });
    expect((await newestEvent(ws.id)).action).toBe("workspace.create");
  });

  it("member.add", async () => {
    app.clock.advance(1000);
    await owner.client.addMember({ input: { workspaceId: ws.id, email: other.email, role: "MODERATOR" } });
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id, first: 1 });
    expect(auditEvents.totalCount).toBe(2);
    expect(auditEvents.edges[0]?.node).toMatchObject({
      action: "member.add",
      actorType: "user",
      actorId: owner.user.id,
      targetType: "user",
      targetId: other.user.id,
      ip: TEST_IP,
      data: { role: "MODERATOR" },
      createdAt: app.clock.now.toISOString(),
    });
  });

  it("member.update_role", async () => {
    app.clock.advance(1000);
    await owner.client.updateMemberRole({ input: { workspaceId: ws.id, userId: other.user.id, role: "ADMIN" } });
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id, first: 1 });
    expect(auditEvents.totalCount).toBe(3);
    expect(auditEvents.edges[0]?.node).toMatchObject({
      action: "member.update_role",
      actorType: "user",
      actorId: owner.user.id,
      targetType: "user",
      targetId: other.user.id,
      ip: TEST_IP,
      data: { from: "MODERATOR", to: "ADMIN" },
    });
  });

  it("the actor is whoever made the change, not the workspace owner", async () => {
    app.clock.advance(1000);
    const third = await signUpUser(app, "third");
    await other.client.addMember({ input: { workspaceId: ws.id, email: third.email, role: "MEMBER" } });
    const event = await newestEvent(ws.id);
    expect(event).toMatchObject({ action: "member.add", actorId: other.user.id, targetId: third.user.id, ip: TEST_IP });
    await other.client.removeMember({ input: { workspaceId: ws.id, userId: third.user.id } });
    expect(await newestEvent(ws.id)).toMatchObject({
      action: "member.remove",
      actorId: other.user.id,
      targetId: third.user.id,
      data: { role: "MEMBER" },
    });
  });

  it("member.remove", async () => {
    app.clock.advance(1000);
    await owner.client.removeMember({ input: { workspaceId: ws.id, userId: other.user.id } });
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id, first: 1 });
    expect(auditEvents.edges[0]?.node).toMatchObject({
      action: "member.remove",
      actorType: "user",
      actorId: owner.user.id,
      targetType: "user",
      targetId: other.user.id,
      ip: TEST_IP,
      data: { role: "ADMIN" },
      createdAt: app.clock.now.toISOString(),
    });
  });

  it("refused and no-op changes write nothing", async () => {
    const before = await app.db.auditEvent.count();
    await expectCode(
      owner.client.updateMemberRole({ input: { workspaceId: ws.id, userId: owner.user.id, role: "ADMIN" } }),
      "validation_failed",
    );
    await expectCode(
      other.client.addMember({ input: { workspaceId: ws.id, email: other.email, role: "MEMBER" } }),
      "not_found",
    );
    await expectCode(owner.client.createWorkspace({ input: { name: "Dup", slug: ws.slug } }), "validation_failed");
    await owner.client.updateMemberRole({ input: { workspaceId: ws.id, userId: owner.user.id, role: "OWNER" } });
    expect(await app.db.auditEvent.count()).toBe(before);
  });

  it("the API's view of each event matches the stored row", async () => {
    const rows = await app.db.auditEvent.findMany({ where: { workspaceId: ws.id }, orderBy: { seq: "desc" } });
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: ws.id });
    expect(auditEvents.edges.map((e) => e.node)).toEqual(
      rows.map((r) => ({
        id: r.id,
        action: r.action,
        actorType: r.actorType,
        actorId: r.actorId,
        targetType: r.targetType,
        targetId: r.targetId,
        ip: r.ip,
        data: r.data,
        createdAt: r.createdAt.toISOString(),
        hash: r.hash,
        prevHash: r.prevHash,
      })),
    );
  });
});

describe("pagination", () => {
  let owner: Person;
  let workspaceId: string;

  beforeAll(async () => {
    owner = await signUpUser(app, "pager");
    workspaceId = (await owner.client.createWorkspace({ input: { name: "Pages", slug: freshSlug("pages") } }))
      .createWorkspace.id;
    const people = await Promise.all([1, 2, 3, 4].map((n) => signUpUser(app, `paged${n}`)));
    for (const person of people) {
      app.clock.advance(1000);
      await owner.client.addMember({ input: { workspaceId, email: person.email, role: "MEMBER" } });
      app.clock.advance(1000);
      await owner.client.updateMemberRole({ input: { workspaceId, userId: person.user.id, role: "MODERATOR" } });
    }
    const first = people[0];
    if (!first) throw new Error("no people");
    app.clock.advance(1000);
    await owner.client.removeMember({ input: { workspaceId, userId: first.user.id } });
    // 1 create + 4 adds + 4 role changes + 1 removal
    expect(await app.db.auditEvent.count({ where: { workspaceId } })).toBe(10);
  });

  for (const size of [1, 3, 4, 10, 25]) {
    it(`first: ${size} with endCursor walks every event once, newest first`, async () => {
      const rows = await app.db.auditEvent.findMany({ where: { workspaceId }, orderBy: { seq: "desc" } });
      const seen: string[] = [];
      let after: string | null | undefined;
      let pages = 0;
      for (;;) {
        const { auditEvents } = await owner.client.auditEvents({ workspaceId, first: size, after });
        pages++;
        expect(auditEvents.totalCount).toBe(rows.length);
        expect(auditEvents.edges.length).toBeLessThanOrEqual(size);
        seen.push(...auditEvents.edges.map((e) => e.node.id));
        const last = auditEvents.edges.at(-1);
        if (last) expect(auditEvents.pageInfo.endCursor).toBe(last.cursor);
        if (!auditEvents.pageInfo.hasNextPage) break;
        expect(auditEvents.edges).toHaveLength(size);
        after = auditEvents.pageInfo.endCursor;
        expect(after).toBeTruthy();
        expect(pages).toBeLessThan(50);
      }
      expect(seen).toEqual(rows.map((r) => r.id));
      expect(pages).toBe(Math.max(1, Math.ceil(rows.length / size)));
      const times = rows.map((r) => r.createdAt.getTime());
      expect([...times].sort((x, y) => y - x)).toEqual(times);
      expect(rows.at(-1)?.action).toBe("workspace.create");
      expect(rows[0]?.action).toBe("member.remove");
    });
  }

  it("a cursor past the end gives an empty page with the full totalCount", async () => {
    const { auditEvents } = await owner.client.auditEvents({ workspaceId, first: 10 });
    const page = await owner.client.auditEvents({ workspaceId, first: 5, after: auditEvents.pageInfo.endCursor });
    expect(page.auditEvents.edges).toEqual([]);
    expect(page.auditEvents.pageInfo.hasNextPage).toBe(false);
    expect(page.auditEvents.totalCount).toBe(10);
  });

  const MALFORMED = [
    "abc",
    "0",
    "-1",
    "1.5",
    "",
    " 5",
    "99999999999999999999999",
    // 19 digits, but past the largest bigint: must not reach the database.
    "9999999999999999999",
    "'; DROP TABLE users; --",
  ];
  for (const cursor of MALFORMED) {
    it(`malformed cursor ${JSON.stringify(cursor)} is validation_failed`, async () => {
      const error = await expectCode(
        owner.client.auditEvents({ workspaceId, first: 2, after: cursor }),
        "validation_failed",
      );
      expect(error.status).toBe(400);
      expect(error.code).not.toBe("INTERNAL_SERVER_ERROR");
    });
  }

  it("a malformed `before` cursor is validation_failed too", async () => {
    for (const cursor of ["abc", "9999999999999999999"]) {
      const response = await app.fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({
          query:
            "query ($id: ID!, $before: String) { auditEvents(workspaceId: $id, last: 2, before: $before) { totalCount } }",
          variables: { id: workspaceId, before: cursor },
        }),
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(
        body.errors?.map((e) => e.extensions?.code),
        `before: ${cursor}`,
      ).toEqual(["validation_failed"]);
    }
  });
});

describe("the hash chain", () => {
  const trigger = "audit_events_no_update_delete";

  async function allRows() {
    return app.db.auditEvent.findMany({ orderBy: { seq: "asc" } });
  }

  it("verifies the whole log", async () => {
    const count = await app.db.auditEvent.count();
    expect(count).toBeGreaterThan(20);
    expect(await verifyAuditChain(app.db)).toEqual({ ok: true, checked: count });
    // Across batch boundaries too.
    expect(await verifyAuditChain(app.db, 3)).toEqual({ ok: true, checked: count });
    expect(await verifyAuditChain(app.db, 1)).toEqual({ ok: true, checked: count });
  });

  it("links every row to the one before it", async () => {
    const rows = await allRows();
    expect(rows[0]?.prevHash).toBe("0".repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.prevHash).toBe(rows[i - 1]?.hash);
  });

  it("the database refuses UPDATE and DELETE on audit_events", async () => {
    const rows = await allRows();
    const target = rows[5];
    if (!target) throw new Error("too few rows");
    await expect(
      app.db.$executeRawUnsafe(`UPDATE audit_events SET action = 'member.forged' WHERE id = '${target.id}'`),
    ).rejects.toThrow(/append-only/);
    await expect(app.db.$executeRawUnsafe(`DELETE FROM audit_events WHERE id = '${target.id}'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(app.db.$executeRawUnsafe("DELETE FROM audit_events")).rejects.toThrow(/append-only/);
    await expect(
      app.db.auditEvent.update({ where: { id: target.id }, data: { ip: "198.51.100.1" } }),
    ).rejects.toThrow();
    await expect(app.db.auditEvent.deleteMany({})).rejects.toThrow();
    expect(await allRows()).toEqual(rows);
  });

  describe("with the trigger disabled (an attacker with superuser rights)", () => {
    beforeAll(async () => {
      await app.db.$executeRawUnsafe(`ALTER TABLE audit_events DISABLE TRIGGER ${trigger}`);
    });
    afterAll(async () => {
      await app.db.$executeRawUnsafe(`ALTER TABLE audit_events ENABLE TRIGGER ${trigger}`);
    });

    it("an edited row is a hash_mismatch at that row", async () => {
      const rows = await allRows();
      const index = Math.floor(rows.length / 2);
      const target = rows[index];
      if (!target) throw new Error("too few rows");
      await app.db.$executeRawUnsafe(`UPDATE audit_events SET action = 'member.forged' WHERE id = '${target.id}'`);
      expect(await verifyAuditChain(app.db)).toEqual({
        ok: false,
        checked: index,
        seq: target.seq,
        id: target.id,
        reason: "hash_mismatch",
      });
      expect(await verifyAuditChain(app.db, 4)).toMatchObject({ ok: false, id: target.id, reason: "hash_mismatch" });
      // Undoing the edit restores the chain: the hash covers the content, nothing else.
      await app.db.$executeRawUnsafe(`UPDATE audit_events SET action = '${target.action}' WHERE id = '${target.id}'`);
      expect(await verifyAuditChain(app.db)).toEqual({ ok: true, checked: rows.length });
    });

    it("edits to other columns are caught as well", async () => {
      const rows = await allRows();
      const target = rows[3];
      if (!target) throw new Error("too few rows");
      const edits = [
        `ip = '198.51.100.99'`,
        `actor_id = 'someone-else'`,
        `actor_type = 'system'`,
        `workspace_id = NULL`,
        `data = '{"role":"OWNER"}'::jsonb`,
        `created_at = created_at + interval '1 second'`,
        `target_id = NULL`,
      ];
      for (const edit of edits) {
        await app.db.$executeRawUnsafe(`UPDATE audit_events SET ${edit} WHERE id = '${target.id}'`);
        expect(await verifyAuditChain(app.db), edit).toMatchObject({
          ok: false,
          id: target.id,
          reason: "hash_mismatch",
        });
        await app.db.$executeRawUnsafe(
          `UPDATE audit_events SET ip = $1, actor_id = $2, actor_type = $3, workspace_id = $4::uuid, data = $5::jsonb,
             created_at = $6::timestamptz, target_id = $7 WHERE id = $8::uuid`,
          target.ip,
          target.actorId,
          target.actorType,
          target.workspaceId,
          JSON.stringify(target.data),
          target.createdAt.toISOString(),
          target.targetId,
          target.id,
        );
        expect(await verifyAuditChain(app.db), `restored after ${edit}`).toEqual({ ok: true, checked: rows.length });
      }
    });

    it("re-hashing an edited row breaks the link to the next one", async () => {
      const rows = await allRows();
      const index = 4;
      const target = rows[index];
      const next = rows[index + 1];
      if (!target || !next) throw new Error("too few rows");
      const { auditHash } = await import("../../server/audit/chain");
      const forged = { ...target, action: "member.forged" };
      const forgedHash = auditHash(forged);
      await app.db.$executeRawUnsafe(
        `UPDATE audit_events SET action = 'member.forged', hash = '${forgedHash}' WHERE id = '${target.id}'`,
      );
      expect(await verifyAuditChain(app.db)).toEqual({
        ok: false,
        checked: index + 1,
        seq: next.seq,
        id: next.id,
        reason: "broken_link",
      });
      await app.db.$executeRawUnsafe(
        `UPDATE audit_events SET action = '${target.action}', hash = '${target.hash}' WHERE id = '${target.id}'`,
      );
      expect(await verifyAuditChain(app.db)).toEqual({ ok: true, checked: rows.length });
    });

    it("a deleted middle row is a broken_link at the row after it", async () => {
      const rows = await allRows();
      const index = Math.floor(rows.length / 2);
      const victim = rows[index];
      const next = rows[index + 1];
      if (!victim || !next) throw new Error("too few rows");
      await app.db.$executeRawUnsafe(`DELETE FROM audit_events WHERE id = '${victim.id}'`);
      expect(await verifyAuditChain(app.db)).toEqual({
        ok: false,
        checked: index,
        seq: next.seq,
        id: next.id,
        reason: "broken_link",
      });
      expect(await verifyAuditChain(app.db, 2)).toMatchObject({ ok: false, id: next.id, reason: "broken_link" });
    });
  });

  it("with the trigger back on, the database refuses changes again", async () => {
    const target = (await allRows())[1];
    if (!target) throw new Error("too few rows");
    await expect(
      app.db.$executeRawUnsafe(`UPDATE audit_events SET action = 'member.forged' WHERE id = '${target.id}'`),
    ).rejects.toThrow(/append-only/);
  });
});
