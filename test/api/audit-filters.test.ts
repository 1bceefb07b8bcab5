import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// auditEvents(action, actorId, from, to): the filters run in the database, so they
// narrow the whole log (and totalCount), not just the page shown, and seq cursors
// keep paging through the filtered rows.

let app: TestApp;
type Person = Awaited<ReturnType<typeof signUpUser>>;
let owner: Person;
let both: Person; // an ADMIN of A who also owns B
let moderator: Person;
let member: Person;
let a: string;
let b: string;
const at: Record<string, Date> = {};

async function step(name: string, change: () => Promise<unknown>) {
  app.clock.advance(1000);
  at[name] = app.clock.now;
  await change();
}
const time = (name: string) => at[name] ?? new Date(Number.NaN);

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUpUser(app, "owner");
  both = await signUpUser(app, "both");
  moderator = await signUpUser(app, "moderator");
  member = await signUpUser(app, "member");
  const leaver = await signUpUser(app, "leaver");
  const late = await signUpUser(app, "late");
  await step("createA", async () => {
    a = (await owner.client.createWorkspace({ input: { name: "A", slug: `a-${process.pid}` } })).createWorkspace.id;
  });
  const add = (who: Person, role: "MEMBER" | "ADMIN", workspaceId = a, by = owner) =>
    by.client.addMember({ input: { workspaceId, email: who.email, role } });
  await step("addModerator", () => add(moderator, "MEMBER"));
  await step("addMember", () => add(member, "MEMBER"));
  await step("addLeaver", () => add(leaver, "MEMBER"));
  await step("addBoth", () => add(both, "ADMIN"));
  await step("promote", () =>
    both.client.updateMemberRole({ input: { workspaceId: a, userId: moderator.user.id, role: "MODERATOR" } }),
  );
  await step("createB", async () => {
    b = (await both.client.createWorkspace({ input: { name: "B", slug: `b-${process.pid}` } })).createWorkspace.id;
  });
  await step("addInB", () => add(leaver, "MEMBER", b, both));
  await step("remove", () => both.client.removeMember({ input: { workspaceId: a, userId: leaver.user.id } }));
  await step("addLate", () => add(late, "MEMBER"));
});
afterAll(() => app.close());

type Filter = { action?: string; actorId?: string; from?: string; to?: string };

/** Every page of a filtered log, `size` at a time, as action names (newest first). */
async function walk(caller: Person, workspaceId: string, filter: Filter, size = 50) {
  const actions: string[] = [];
  const totals = new Set<number>();
  let after: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const { auditEvents } = await caller.client.auditEvents({ workspaceId, first: size, after, ...filter });
    totals.add(auditEvents.totalCount);
    actions.push(...auditEvents.edges.map((e) => e.node.action));
    if (!auditEvents.pageInfo.hasNextPage) break;
    after = auditEvents.pageInfo.endCursor;
  }
  expect([...totals]).toEqual([actions.length]);
  return actions;
}

describe("each filter alone", () => {
  it("action: only that action, over the whole log", async () => {
    expect(await walk(owner, a, { action: "member.add" })).toEqual(Array(5).fill("member.add"));
    const rows = await app.db.auditEvent.findMany({
      where: { workspaceId: a, action: "member.add" },
      orderBy: { seq: "desc" },
    });
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: a, action: "member.add" });
    expect(auditEvents.edges.map((e) => e.node.id)).toEqual(rows.map((r) => r.id));
    expect(auditEvents.edges.map((e) => e.node.createdAt)).toEqual(
      ["addLate", "addBoth", "addLeaver", "addMember", "addModerator"].map((s) => time(s).toISOString()),
    );
  });

  it("action that never happened: an empty page, totalCount 0", async () => {
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: a, action: "api_key.create" });
    expect(auditEvents).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
  });

  it("actorId: only what that person did in this workspace", async () => {
    expect(await walk(owner, a, { actorId: both.user.id })).toEqual(["member.remove", "member.update_role"]);
    expect(await walk(owner, a, { actorId: owner.user.id })).toEqual([
      "member.add",
      "member.add",
      "member.add",
      "member.add",
      "member.add",
      "workspace.create",
    ]);
  });

  it("from is inclusive, to is exclusive", async () => {
    const from = time("addMember").toISOString();
    const to = time("promote").toISOString();
    expect(await walk(owner, a, { from, to })).toEqual(["member.add", "member.add", "member.add"]);
    const { auditEvents } = await owner.client.auditEvents({ workspaceId: a, from, to });
    expect(auditEvents.edges.map((e) => e.node.createdAt)).toEqual(
      ["addBoth", "addLeaver", "addMember"].map((s) => time(s).toISOString()),
    );
    expect(await walk(owner, a, { from: time("remove").toISOString() })).toEqual(["member.add", "member.remove"]);
    expect(await walk(owner, a, { to: time("addModerator").toISOString() })).toEqual(["workspace.create"]);
  });
});

describe("filters combined, and paging through them", () => {
  it("action + actor + window narrow together", async () => {
    const filter = { action: "member.add", actorId: owner.user.id, from: time("addLeaver").toISOString() };
    expect(await walk(owner, a, filter)).toEqual(["member.add", "member.add", "member.add"]);
    const { auditEvents } = await owner.client.auditEvents({
      workspaceId: a,
      ...filter,
      to: time("addLate").toISOString(),
    });
    expect(auditEvents.totalCount).toBe(2);
    expect(auditEvents.edges.map((e) => e.node.createdAt)).toEqual(
      ["addBoth", "addLeaver"].map((s) => time(s).toISOString()),
    );
    expect(await walk(owner, a, { action: "member.remove", actorId: owner.user.id })).toEqual([]);
  });

  for (const size of [1, 2, 3]) {
    it(`first: ${size} pages through the filtered rows only, each once`, async () => {
      const pages = await walk(owner, a, { action: "member.add" }, size);
      expect(pages).toEqual(Array(5).fill("member.add"));
      const windowed = await walk(
        owner,
        a,
        { from: time("addBoth").toISOString(), to: time("addLate").toISOString() },
        size,
      );
      expect(windowed).toEqual(["member.remove", "member.update_role", "member.add"]);
    });
  }

  it("a cursor stays valid when the filter is applied after it", async () => {
    const first = await owner.client.auditEvents({ workspaceId: a, first: 2 });
    const next = await owner.client.auditEvents({
      workspaceId: a,
      first: 10,
      after: first.auditEvents.pageInfo.endCursor,
      action: "member.add",
    });
    // The two newest are addLate and remove; older member.adds follow.
    expect(next.auditEvents.edges.map((e) => e.node.createdAt)).toEqual(
      ["addBoth", "addLeaver", "addMember", "addModerator"].map((s) => time(s).toISOString()),
    );
  });
});

describe("bad filter input answers validation_failed with the field", () => {
  const cases: [string, () => Filter, string][] = [
    ["from after to", () => ({ from: time("remove").toISOString(), to: time("createA").toISOString() }), "from"],
    ["from equal to to", () => ({ from: time("remove").toISOString(), to: time("remove").toISOString() }), "from"],
    ["an over-long action", () => ({ action: `member.${"x".repeat(60)}` }), "action"],
    ["an action that is no action name", () => ({ action: "MEMBER ADD; --" }), "action"],
    ["an empty action", () => ({ action: "" }), "action"],
    ["a misspelt action, which would quietly match nothing", () => ({ action: "member.added" }), "action"],
    ["an action only the platform's log records", () => ({ action: "user.sign_in" }), "action"],
    ["a malformed actorId", () => ({ actorId: "not-a-user" }), "actorId"],
  ];
  for (const [name, filter, field] of cases) {
    it(name, async () => {
      const error = await expectCode(owner.client.auditEvents({ workspaceId: a, ...filter() }), "validation_failed");
      expect({ status: error.status, field: error.field }).toEqual({ status: 400, field });
      expect(error.docUrl).toMatch(/validation_failed/);
    });
  }

  it("a date that is not a date", async () => {
    for (const from of ["2030-02-31T00:00:00Z", "yesterday", "2030-01-01"]) {
      const error = await expectCode(owner.client.auditEvents({ workspaceId: a, from }), "validation_failed");
      expect(error.status, from).toBe(400);
    }
  });
});

describe("attacks", () => {
  it("a MEMBER cannot filter the log", async () => {
    await expectCode(member.client.auditEvents({ workspaceId: a, actorId: owner.user.id }), "insufficient_permissions");
  });

  it("a MODERATOR cannot filter the log", async () => {
    await expectCode(
      moderator.client.auditEvents({ workspaceId: a, action: "member.add" }),
      "insufficient_permissions",
    );
  });

  it("another workspace's OWNER filtering A's log gets not_found", async () => {
    const outsider = await signUpUser(app, "outsider");
    await outsider.client.createWorkspace({ input: { name: "Elsewhere", slug: `elsewhere-${process.pid}` } });
    await expectCode(outsider.client.auditEvents({ workspaceId: a, action: "member.add" }), "not_found");
  });

  it("filtering B by a person who also acts in A reveals none of A's events", async () => {
    expect(await walk(both, b, { actorId: both.user.id })).toEqual(["member.add", "workspace.create"]);
    expect(await walk(both, b, { action: "member.remove" })).toEqual([]);
    expect(await walk(both, b, { actorId: owner.user.id })).toEqual([]);
    const { auditEvents } = await both.client.auditEvents({ workspaceId: b, from: time("createA").toISOString() });
    expect(auditEvents.edges.map((e) => e.node.createdAt)).toEqual(
      ["addInB", "createB"].map((s) => time(s).toISOString()),
    );
  });
});
