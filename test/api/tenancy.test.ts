import { randomUUID } from "node:crypto";
import { KeywardError } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";

// Two tenants on one server. B's owner must learn nothing about A: every attempt
// answers not_found, exactly like a workspace that does not exist, and nothing in
// any response names A, its slug or its people.

let app: TestApp;

type Person = Awaited<ReturnType<typeof signUpUser>>;
interface Tenant {
  owner: Person;
  admin: Person;
  member: Person;
  ws: { id: string; slug: string; name: string };
}

let a: Tenant;
let b: Tenant;
/** Signed up, but a member of nothing yet. */
let newcomer: Person;

async function makeTenant(label: string, name: string, slug: string): Promise<Tenant> {
  const owner = await signUpUser(app, `${label}-owner`);
  const admin = await signUpUser(app, `${label}-admin`);
  const member = await signUpUser(app, `${label}-member`);
  const { createWorkspace } = await owner.client.createWorkspace({ input: { name, slug } });
  await owner.client.addMember({ input: { workspaceId: createWorkspace.id, email: admin.email, role: "ADMIN" } });
  await owner.client.addMember({ input: { workspaceId: createWorkspace.id, email: member.email, role: "MEMBER" } });
  await owner.client.updateMemberRole({
    input: { workspaceId: createWorkspace.id, userId: member.user.id, role: "MODERATOR" },
  });
  return {
    owner,
    admin,
    member,
    ws: { id: createWorkspace.id, slug: createWorkspace.slug, name: createWorkspace.name },
  };
}

beforeAll(async () => {
  app = await startTestApp();
  a = await makeTenant("alpha", "Zanzibar Quokka Holdings", `zanzibar-quokka-${process.pid}`);
  b = await makeTenant("beta", "Beta Tenant", `beta-tenant-${process.pid}`);
  newcomer = await signUpUser(app, "newcomer");
});
afterAll(() => app.close());

/** Strings that would tell B's owner something about A. */
function secretsOfA(): string[] {
  return [a.ws.id, a.ws.slug, a.ws.name, a.owner.email, a.admin.email, a.member.email];
}

function expectNoLeak(text: string) {
  const lower = text.toLowerCase();
  for (const secret of secretsOfA()) expect(lower, `response leaks ${secret}`).not.toContain(secret.toLowerCase());
}

async function memberRowsOf(workspaceId: string) {
  const rows = await app.db.membership.findMany({ where: { workspaceId }, orderBy: { userId: "asc" } });
  return rows.map((r) => ({ userId: r.userId, role: r.role }));
}

async function rawAsB(query: string, variables: Record<string, unknown>) {
  const response = await app.fetch("/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      authorization: `Bearer ${b.owner.token}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, text: await response.text() };
}

interface Probe {
  name: string;
  /** Through the SDK, against a workspace reference. */
  sdk(ref: { id: string; slug: string }): Promise<unknown>;
  /** The same thing as raw GraphQL, to see the whole body (data included). */
  raw(ref: { id: string; slug: string }): [string, Record<string, unknown>];
}

const PROBES: Probe[] = [
  {
    name: "workspace(id)",
    sdk: (ref) => b.owner.client.workspace({ id: ref.id }),
    raw: (ref) => ["query ($id: ID) { workspace(id: $id) { id slug name viewerRole } }", { id: ref.id }],
  },
  {
    name: "workspace(slug)",
    sdk: (ref) => b.owner.client.workspace({ slug: ref.slug }),
    raw: (ref) => ["query ($slug: String) { workspace(slug: $slug) { id slug name } }", { slug: ref.slug }],
  },
  {
    name: "workspace members",
    sdk: (ref) => b.owner.client.workspaceMembers({ id: ref.id }),
    raw: (ref) => [
      "query ($id: ID) { workspace(id: $id) { id members { role user { id email name } } } }",
      { id: ref.id },
    ],
  },
  {
    name: "auditEvents",
    sdk: (ref) => b.owner.client.auditEvents({ workspaceId: ref.id }),
    raw: (ref) => [
      "query ($id: ID!) { auditEvents(workspaceId: $id) { totalCount edges { node { id action targetId data } } } }",
      { id: ref.id },
    ],
  },
  {
    name: "addMember",
    sdk: (ref) => b.owner.client.addMember({ input: { workspaceId: ref.id, email: newcomer.email, role: "ADMIN" } }),
    raw: (ref) => [
      "mutation ($input: AddMemberInput!) { addMember(input: $input) { role user { id email } workspace { id slug name } } }",
      { input: { workspaceId: ref.id, email: newcomer.email, role: "ADMIN" } },
    ],
  },
  {
    name: "addMember (B's own member)",
    sdk: (ref) => b.owner.client.addMember({ input: { workspaceId: ref.id, email: b.member.email, role: "OWNER" } }),
    raw: (ref) => [
      "mutation ($input: AddMemberInput!) { addMember(input: $input) { role workspace { id slug name } } }",
      { input: { workspaceId: ref.id, email: b.member.email, role: "OWNER" } },
    ],
  },
  {
    name: "updateMemberRole",
    sdk: (ref) =>
      b.owner.client.updateMemberRole({ input: { workspaceId: ref.id, userId: a.member.user.id, role: "MEMBER" } }),
    raw: (ref) => [
      "mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role user { email } workspace { name } } }",
      { input: { workspaceId: ref.id, userId: a.member.user.id, role: "MEMBER" } },
    ],
  },
  {
    name: "updateMemberRole of A's owner",
    sdk: (ref) =>
      b.owner.client.updateMemberRole({ input: { workspaceId: ref.id, userId: a.owner.user.id, role: "MEMBER" } }),
    raw: (ref) => [
      "mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role user { email } } }",
      { input: { workspaceId: ref.id, userId: a.owner.user.id, role: "MEMBER" } },
    ],
  },
  {
    name: "removeMember",
    sdk: (ref) => b.owner.client.removeMember({ input: { workspaceId: ref.id, userId: a.admin.user.id } }),
    raw: (ref) => [
      "mutation ($input: RemoveMemberInput!) { removeMember(input: $input) }",
      { input: { workspaceId: ref.id, userId: a.admin.user.id } },
    ],
  },
];

async function sdkError(call: Promise<unknown>): Promise<KeywardError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "the call succeeded").toBeInstanceOf(KeywardError);
  return error as KeywardError;
}

const shape = (e: KeywardError) => ({
  code: e.code,
  message: e.message,
  status: e.status,
  field: e.field,
  errors: e.errors.map((x) => ({ message: x.message, path: x.path, code: x.extensions?.code })),
});

describe("B's owner against workspace A", () => {
  for (const probe of PROBES) {
    it(`${probe.name} is not_found, like a workspace that does not exist, and leaks nothing`, async () => {
      const membersBefore = await memberRowsOf(a.ws.id);
      const auditBefore = await app.db.auditEvent.count();

      const error = await sdkError(probe.sdk(a.ws));
      expect(error.code).toBe("not_found");
      expect(error.status).toBe(404);
      expectNoLeak(JSON.stringify({ message: error.message, field: error.field, errors: error.errors }));

      const ghost = { id: randomUUID(), slug: `no-such-${randomUUID().slice(0, 8)}` };
      const ghostError = await sdkError(probe.sdk(ghost));
      expect(shape(error)).toEqual(shape(ghostError));

      const [query, variables] = probe.raw(a.ws);
      const raw = await rawAsB(query, variables);
      expect(raw.status).toBe(404);
      const body = JSON.parse(raw.text) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.map((e) => e.extensions?.code)).toEqual(["not_found"]);
      expect(body.data ?? null).toBeNull();
      expectNoLeak(raw.text);

      const [ghostQuery, ghostVariables] = probe.raw(ghost);
      const ghostRaw = await rawAsB(ghostQuery, ghostVariables);
      expect(ghostRaw.status).toBe(raw.status);
      // Same body apart from the request id that a masked error might carry (none should).
      expect(raw.text).toEqual(ghostRaw.text.split(ghost.id).join(a.ws.id).split(ghost.slug).join(a.ws.slug));

      expect(await memberRowsOf(a.ws.id)).toEqual(membersBefore);
      expect(await app.db.auditEvent.count()).toBe(auditBefore);
    });
  }

  it("A is untouched and still fully visible to its own owner", async () => {
    const { workspace } = await a.owner.client.workspaceMembers({ id: a.ws.id });
    expect(workspace.members.map((m) => [m.user.email, m.role]).sort()).toEqual(
      [
        [a.owner.email, "OWNER"],
        [a.admin.email, "ADMIN"],
        [a.member.email, "MODERATOR"],
      ].sort(),
    );
    expect(await app.db.membership.count({ where: { userId: newcomer.user.id } })).toBe(0);
  });
});

describe("B's owner inside B cannot reach A's people", () => {
  it("updateMemberRole and removeMember on B with A's users are not_found and change nothing", async () => {
    const before = await memberRowsOf(a.ws.id);
    for (const user of [a.owner, a.admin, a.member]) {
      const update = await sdkError(
        b.owner.client.updateMemberRole({ input: { workspaceId: b.ws.id, userId: user.user.id, role: "MEMBER" } }),
      );
      expect(update.code).toBe("not_found");
      const remove = await sdkError(
        b.owner.client.removeMember({ input: { workspaceId: b.ws.id, userId: user.user.id } }),
      );
      expect(remove.code).toBe("not_found");
      expectNoLeak(JSON.stringify([update.errors, remove.errors]));
    }
    expect(await memberRowsOf(a.ws.id)).toEqual(before);
  });

  it("B's members list shows only B's people", async () => {
    const { workspace } = await b.owner.client.workspaceMembers({ id: b.ws.id });
    expect(workspace.members.map((m) => m.user.id).sort()).toEqual(
      [b.owner.user.id, b.admin.user.id, b.member.user.id].sort(),
    );
    expectNoLeak(JSON.stringify(workspace));
  });
});

describe("me.memberships", () => {
  it("lists only the caller's own workspaces", async () => {
    const cases: [Person, Tenant, string][] = [
      [a.owner, a, "OWNER"],
      [a.admin, a, "ADMIN"],
      [a.member, a, "MODERATOR"],
      [b.owner, b, "OWNER"],
      [b.admin, b, "ADMIN"],
      [b.member, b, "MODERATOR"],
    ];
    for (const [person, tenant, role] of cases) {
      const { me } = await person.client.me();
      expect(me?.id).toBe(person.user.id);
      expect(me?.memberships).toEqual([{ role, workspace: { ...tenant.ws, requireDeploy: false } }]);
    }
    const { me } = await newcomer.client.me();
    expect(me?.memberships).toEqual([]);
    const fromB = await rawAsB("query { me { memberships { role workspace { id slug name } } } }", {});
    expectNoLeak(fromB.text);
  });
});

describe("audit logs", () => {
  it("B's audit log holds none of A's events, and all of B's", async () => {
    const aEvents = await app.db.auditEvent.findMany({ where: { workspaceId: a.ws.id } });
    const bEvents = await app.db.auditEvent.findMany({ where: { workspaceId: b.ws.id }, orderBy: { seq: "desc" } });
    // workspace.create, two member.add and one member.update_role each.
    expect(aEvents.map((e) => e.action).sort()).toEqual(
      ["member.add", "member.add", "member.update_role", "workspace.create"].sort(),
    );
    expect(bEvents).toHaveLength(4);

    const { auditEvents } = await b.owner.client.auditEvents({ workspaceId: b.ws.id, first: 100 });
    expect(auditEvents.totalCount).toBe(bEvents.length);
    const ids = auditEvents.edges.map((e) => e.node.id);
    expect(ids).toEqual(bEvents.map((e) => e.id));
    const aIds = new Set(aEvents.map((e) => e.id));
    expect(ids.filter((id) => aIds.has(id))).toEqual([]);
    const aUserIds = new Set([a.owner.user.id, a.admin.user.id, a.member.user.id]);
    for (const { node } of auditEvents.edges) {
      expect(aUserIds.has(node.actorId ?? "")).toBe(false);
      expect(aUserIds.has(node.targetId ?? "")).toBe(false);
      expect(node.targetId).not.toBe(a.ws.id);
    }
    expectNoLeak(JSON.stringify(auditEvents));
    // A's owner sees A's events only.
    const ofA = await a.owner.client.auditEvents({ workspaceId: a.ws.id, first: 100 });
    expect(ofA.auditEvents.edges.map((e) => e.node.id).sort()).toEqual([...aIds].sort());
  });

  it("a cursor taken from A's log does not reveal A's events through B's log", async () => {
    const { auditEvents } = await a.owner.client.auditEvents({ workspaceId: a.ws.id, first: 1 });
    const cursor = auditEvents.pageInfo.endCursor;
    expect(cursor).toBeTruthy();
    const page = await b.owner.client.auditEvents({ workspaceId: b.ws.id, first: 100, after: cursor });
    const aIds = new Set((await app.db.auditEvent.findMany({ where: { workspaceId: a.ws.id } })).map((e) => e.id));
    for (const { node } of page.auditEvents.edges) expect(aIds.has(node.id)).toBe(false);
  });
});
