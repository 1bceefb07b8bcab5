import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWorkspaceChain } from "../../server/audit/workspace-chain";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// auditChain(workspaceId): one workspace's rows checked against the global hash
// chain — own hash, link to the row before, link from the row after — so an edit,
// deletion or reordering of one of its rows shows on its status, and on no one else's.

let app: TestApp;
type Person = Awaited<ReturnType<typeof signUpUser>>;
let owner: Person;
let ownerB: Person;
let moderator: Person;
let member: Person;
let a: string;
let b: string;
const trigger = "audit_events_no_update_delete";

const rowsOf = (workspaceId: string) => app.db.auditEvent.findMany({ where: { workspaceId }, orderBy: { seq: "asc" } });
const statusOf = async (caller: Person, workspaceId: string) =>
  (await caller.client.auditChain({ workspaceId })).auditChain;

beforeAll(async () => {
  app = await startTestApp({}, { countQueries: true });
  owner = await signUpUser(app, "owner");
  ownerB = await signUpUser(app, "owner-b");
  moderator = await signUpUser(app, "moderator");
  member = await signUpUser(app, "member");
  b = (await ownerB.client.createWorkspace({ input: { name: "B", slug: `b-${process.pid}` } })).createWorkspace.id;
  a = (await owner.client.createWorkspace({ input: { name: "A", slug: `a-${process.pid}` } })).createWorkspace.id;
  // A's rows one after another in the global chain, between B's rows.
  await owner.client.addMember({ input: { workspaceId: a, email: moderator.email, role: "MODERATOR" } });
  await owner.client.addMember({ input: { workspaceId: a, email: member.email, role: "MEMBER" } });
  for (const role of ["ADMIN", "MEMBER", "ADMIN", "MEMBER"] as const) {
    await owner.client.updateMemberRole({ input: { workspaceId: a, userId: member.user.id, role } });
  }
  await ownerB.client.addMember({ input: { workspaceId: b, email: member.email, role: "MEMBER" } });
});
afterAll(() => app.close());

describe("an untouched log", () => {
  it("is verified, with every event of the workspace counted and the time of the check", async () => {
    app.clock.advance(5000);
    expect(await statusOf(owner, a)).toEqual({
      ok: true,
      checkedEvents: 7,
      checkedAt: app.clock.now.toISOString(),
      brokenEventId: null,
      reason: null,
    });
    expect(await statusOf(ownerB, b)).toMatchObject({ ok: true, checkedEvents: 2 });
  });

  it("reads in batches: any batch size gives the same answer", async () => {
    for (const size of [1, 2, 3, 500]) {
      expect(await verifyWorkspaceChain(app.db, a, size), `batch ${size}`).toEqual({ ok: true, checked: 7 });
    }
  });

  it("reads no other workspace's content: of rows outside A, only their position and hashes", async () => {
    const { statements } = await app.counting(() => owner.client.auditChain({ workspaceId: a }));
    const reads = statements.filter((sql) => /audit_events/.test(sql));
    expect(reads.length).toBeGreaterThanOrEqual(2);
    const content = /\b(action|data|actor_id|actor_type|target_id|target_type|ip|created_at)\b/;
    for (const sql of reads.filter((sql) => !/"workspace_id" = \$1/.test(sql))) {
      expect(sql, "a read not limited to the workspace").not.toMatch(content);
      expect(sql).not.toMatch(/\*/);
    }
    expect(reads.some((sql) => /"workspace_id" = \$1/.test(sql))).toBe(true);
  });

  it("an ADMIN may check it too", async () => {
    await owner.client.updateMemberRole({ input: { workspaceId: a, userId: member.user.id, role: "ADMIN" } });
    expect(await statusOf(member, a)).toMatchObject({ ok: true, checkedEvents: 8 });
    await owner.client.updateMemberRole({ input: { workspaceId: a, userId: member.user.id, role: "MEMBER" } });
  });
});

describe("tampering with A's rows (trigger disabled, as a superuser could)", () => {
  beforeAll(() => app.db.$executeRawUnsafe(`ALTER TABLE audit_events DISABLE TRIGGER ${trigger}`));
  afterAll(() => app.db.$executeRawUnsafe(`ALTER TABLE audit_events ENABLE TRIGGER ${trigger}`));

  async function expectOnlyABroken(id: string, reason: string, checkedEvents: number) {
    expect(await statusOf(owner, a)).toMatchObject({ ok: false, brokenEventId: id, reason, checkedEvents });
    for (const size of [1, 2]) {
      expect(await verifyWorkspaceChain(app.db, a, size), `batch ${size}`).toMatchObject({ ok: false, id });
    }
    expect(await statusOf(ownerB, b)).toMatchObject({ ok: true, brokenEventId: null });
  }

  it("an edited row is HASH_MISMATCH at that row; B stays verified", async () => {
    const rows = await rowsOf(a);
    const target = rows[3];
    if (!target) throw new Error("too few rows");
    await app.db.$executeRawUnsafe(
      `UPDATE audit_events SET data = '{"to":"OWNER"}'::jsonb WHERE id = $1::uuid`,
      target.id,
    );
    await expectOnlyABroken(target.id, "HASH_MISMATCH", 3);
    await app.db.$executeRawUnsafe(
      `UPDATE audit_events SET data = $1::jsonb WHERE id = $2::uuid`,
      JSON.stringify(target.data),
      target.id,
    );
    expect(await statusOf(owner, a)).toMatchObject({ ok: true });
  });

  it("a changed prevHash is BROKEN_LINK at that row; B stays verified", async () => {
    const target = (await rowsOf(a))[4];
    if (!target) throw new Error("too few rows");
    await app.db.$executeRawUnsafe(
      `UPDATE audit_events SET prev_hash = $1 WHERE id = $2::uuid`,
      "f".repeat(64),
      target.id,
    );
    await expectOnlyABroken(target.id, "BROKEN_LINK", 4);
    await app.db.$executeRawUnsafe(
      `UPDATE audit_events SET prev_hash = $1 WHERE id = $2::uuid`,
      target.prevHash,
      target.id,
    );
    expect(await statusOf(owner, a)).toMatchObject({ ok: true });
  });

  it("a re-hashed forgery still breaks the link from the next row", async () => {
    const rows = await rowsOf(a);
    const [target, next] = [rows[2], rows[3]];
    if (!target || !next) throw new Error("too few rows");
    const { auditHash } = await import("../../server/audit/chain");
    const forged = auditHash({ ...target, action: "member.forged" });
    await app.db.$executeRawUnsafe(
      `UPDATE audit_events SET action = 'member.forged', hash = $1 WHERE id = $2::uuid`,
      forged,
      target.id,
    );
    await expectOnlyABroken(next.id, "BROKEN_LINK", 3);
    await app.db.$executeRawUnsafe(
      `UPDATE audit_events SET action = $1, hash = $2 WHERE id = $3::uuid`,
      target.action,
      target.hash,
      target.id,
    );
    expect(await statusOf(owner, a)).toMatchObject({ ok: true });
  });

  it("a reordered row (moved to the end of the log) is caught at the gap it left", async () => {
    const rows = await rowsOf(a);
    const [moved, next] = [rows[5], rows[6]];
    if (!moved || !next) throw new Error("too few rows");
    await app.db.$executeRawUnsafe(`UPDATE audit_events SET seq = seq + 1000000 WHERE id = $1::uuid`, moved.id);
    await expectOnlyABroken(next.id, "BROKEN_LINK", 5);
    await app.db.$executeRawUnsafe(`UPDATE audit_events SET seq = $1 WHERE id = $2::uuid`, moved.seq, moved.id);
    expect(await statusOf(owner, a)).toMatchObject({ ok: true });
  });

  /** Puts a deleted row back exactly as it was (same seq, content and hashes). */
  async function reinsert(row: Awaited<ReturnType<typeof rowsOf>>[number]) {
    await app.db.$executeRawUnsafe(
      `INSERT INTO audit_events (seq, id, workspace_id, actor_type, actor_id, action, target_type, target_id, ip, data,
         created_at, prev_hash, hash)
       VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::timestamptz, $12, $13)`,
      row.seq,
      row.id,
      row.workspaceId,
      row.actorType,
      row.actorId,
      row.action,
      row.targetType,
      row.targetId,
      row.ip,
      JSON.stringify(row.data),
      row.createdAt.toISOString(),
      row.prevHash,
      row.hash,
    );
  }

  it("a deleted row is BROKEN_LINK at A's row after it; B stays verified", async () => {
    const rows = await rowsOf(a);
    const [victim, next] = [rows[4], rows[5]];
    if (!victim || !next) throw new Error("too few rows");
    await app.db.$executeRawUnsafe(`DELETE FROM audit_events WHERE id = $1::uuid`, victim.id);
    await expectOnlyABroken(next.id, "BROKEN_LINK", 4);
    await reinsert(victim);
    expect(await statusOf(owner, a)).toMatchObject({ ok: true });
  });

  it("a deleted row followed by another workspace's row is BROKEN_NEXT_LINK at A's row before the gap", async () => {
    // B's member.add came right after A's last role change of the set-up.
    const following = await app.db.auditEvent.findFirstOrThrow({
      where: { workspaceId: b, action: "member.add" },
    });
    const rows = await rowsOf(a);
    const index = rows.findIndex((row) => row.seq > following.seq) - 1;
    const [before, victim] = [rows[index - 1], rows[index]];
    if (!before || !victim) throw new Error("too few rows");
    expect(following.prevHash).toBe(victim.hash);
    await app.db.$executeRawUnsafe(`DELETE FROM audit_events WHERE id = $1::uuid`, victim.id);
    expect(await statusOf(owner, a)).toMatchObject({
      ok: false,
      brokenEventId: before.id,
      reason: "BROKEN_NEXT_LINK",
      checkedEvents: index - 1,
    });
    expect(await verifyWorkspaceChain(app.db, a, 1)).toMatchObject({ ok: false, id: before.id });
    // B's own row now follows a row that is not its predecessor: B's check sees the same gap.
    expect(await statusOf(ownerB, b)).toMatchObject({ ok: false, brokenEventId: following.id, reason: "BROKEN_LINK" });
    await reinsert(victim);
    expect(await statusOf(owner, a)).toMatchObject({ ok: true });
    expect(await statusOf(ownerB, b)).toMatchObject({ ok: true });
  });

  it("cannot see (documented): the newest rows of the whole log cut off", async () => {
    const rows = await rowsOf(a);
    const newest = rows.at(-1);
    if (!newest) throw new Error("no rows");
    const tail = await app.db.auditEvent.count({ where: { seq: { gte: newest.seq } } });
    expect(tail).toBe(1);
    await app.db.$executeRawUnsafe(`DELETE FROM audit_events WHERE id = $1::uuid`, newest.id);
    // Nothing points at a row that is gone from the end, so the remaining rows still fit.
    expect(await statusOf(owner, a)).toMatchObject({ ok: true, checkedEvents: rows.length - 1 });
    await reinsert(newest);
  });
});

describe("attacks on the status", () => {
  it("a MEMBER cannot read the chain status", async () => {
    await expectCode(member.client.auditChain({ workspaceId: a }), "insufficient_permissions");
  });

  it("a MODERATOR cannot read the chain status", async () => {
    await expectCode(moderator.client.auditChain({ workspaceId: a }), "insufficient_permissions");
  });

  it("another workspace's OWNER gets not_found, like a workspace that does not exist", async () => {
    await expectCode(ownerB.client.auditChain({ workspaceId: a }), "not_found");
    await expectCode(ownerB.client.auditChain({ workspaceId: crypto.randomUUID() }), "not_found");
    await expectCode(ownerB.client.auditChain({ workspaceId: "not-an-id" }), "not_found");
  });

  it("signed out, nobody can ask", async () => {
    await expectCode(app.client().auditChain({ workspaceId: a }), "authentication_required");
  });
});
