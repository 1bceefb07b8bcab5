import { randomUUID } from "node:crypto";
import type { KeywardClient, KeywardError, Role } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// The role table of DESIGN.md, asserted through the API: every caller against
// every workspace operation. Each case makes its own targets (a fresh user to add,
// a fresh member to change or remove) so cases never depend on each other.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

type Caller = "OWNER" | "ADMIN" | "MODERATOR" | "MEMBER" | "non-member" | "anonymous";
type Op =
  | "workspace(id)"
  | "workspace(slug)"
  | "members list"
  | "auditEvents"
  | "addMember MEMBER"
  | "addMember OWNER"
  | "updateMemberRole on a MEMBER"
  | "updateMemberRole on an OWNER"
  | "removeMember of a MEMBER"
  | "createWorkspace";

type Outcome = "allowed" | "insufficient_permissions" | "not_found" | "authentication_required";

const OPS: Op[] = [
  "workspace(id)",
  "workspace(slug)",
  "members list",
  "auditEvents",
  "addMember MEMBER",
  "addMember OWNER",
  "updateMemberRole on a MEMBER",
  "updateMemberRole on an OWNER",
  "removeMember of a MEMBER",
  "createWorkspace",
];

const all = (outcome: Outcome): Record<Op, Outcome> =>
  Object.fromEntries(OPS.map((op) => [op, outcome])) as Record<Op, Outcome>;

const DENIED = "insufficient_permissions";

const EXPECTED: Record<Caller, Record<Op, Outcome>> = {
  OWNER: all("allowed"),
  ADMIN: { ...all("allowed"), "addMember OWNER": DENIED, "updateMemberRole on an OWNER": DENIED },
  MODERATOR: {
    ...all(DENIED),
    "workspace(id)": "allowed",
    "workspace(slug)": "allowed",
    "members list": "allowed",
    createWorkspace: "allowed",
  },
  MEMBER: { ...all(DENIED), "workspace(id)": "allowed", "workspace(slug)": "allowed", createWorkspace: "allowed" },
  "non-member": { ...all("not_found"), createWorkspace: "allowed" },
  anonymous: all("authentication_required"),
};

const STATUS: Record<Exclude<Outcome, "allowed">, number> = {
  insufficient_permissions: 403,
  not_found: 404,
  authentication_required: 401,
};

interface Identity {
  id: string;
  email: string;
  client: KeywardClient;
}

interface Shared {
  workspace: { id: string; slug: string; name: string };
  owner: Identity;
  callers: Record<Caller, { client: KeywardClient; id: string | null; role: Role | null }>;
}

let shared: Shared;
let slugCounter = 0;
const freshSlug = (prefix: string) => `${prefix}-${process.pid}-${++slugCounter}`;

async function membershipRole(workspaceId: string, userId: string): Promise<Role | null> {
  const row = await app.db.membership.findUnique({ where: { workspaceId_userId: { workspaceId, userId } } });
  return row?.role ?? null;
}

/** A fresh user, and (optionally) made a member of the shared workspace by its owner. */
async function freshUser(role?: Role): Promise<Identity> {
  const user = await signUpUser(app, "target");
  if (role) {
    await shared.owner.client.addMember({ input: { workspaceId: shared.workspace.id, email: user.email, role } });
    expect(await membershipRole(shared.workspace.id, user.user.id)).toBe(role);
  }
  return { id: user.user.id, email: user.email, client: user.client };
}

interface Target {
  id: string;
  slug: string;
}

/**
 * One operation: `prepare` makes fresh targets, `call` runs it against a workspace
 * (the shared one, or a workspace that does not exist), `effect` checks what an
 * allowed call did and `unchanged` that a refused one did nothing.
 */
interface OpSpec<P = unknown, R = unknown> {
  prepare(): Promise<P>;
  call(client: KeywardClient, target: Target, prepared: P): Promise<R>;
  effect(result: R, prepared: P, caller: Caller): Promise<void>;
  unchanged(prepared: P): Promise<void>;
}

const spec = <P, R>(s: OpSpec<P, R>) => s as unknown as OpSpec;

const noPrep = async () => undefined;
const nothing = async () => {};

async function expectMemberList(actual: { role: Role; user: { id: string } }[]) {
  const rows = await app.db.membership.findMany({ where: { workspaceId: shared.workspace.id } });
  expect(rows.length).toBeGreaterThanOrEqual(4);
  expect(actual.map((m) => `${m.user.id}:${m.role}`).sort()).toEqual(rows.map((r) => `${r.userId}:${r.role}`).sort());
}

const SPECS: Record<Op, OpSpec> = {
  "workspace(id)": spec({
    prepare: noPrep,
    call: (client, target) => client.workspace({ id: target.id }),
    effect: async (result, _p, caller) => {
      expect(result.workspace).toMatchObject({ ...shared.workspace, viewerRole: shared.callers[caller].role });
    },
    unchanged: nothing,
  }),
  "workspace(slug)": spec({
    prepare: noPrep,
    call: (client, target) => client.workspace({ slug: target.slug }),
    effect: async (result, _p, caller) => {
      expect(result.workspace).toMatchObject({ ...shared.workspace, viewerRole: shared.callers[caller].role });
    },
    unchanged: nothing,
  }),
  "members list": spec({
    prepare: noPrep,
    call: (client, target) => client.workspaceMembers({ id: target.id }),
    effect: async (result) => {
      expect(result.workspace.id).toBe(shared.workspace.id);
      await expectMemberList(result.workspace.members);
    },
    unchanged: nothing,
  }),
  auditEvents: spec({
    prepare: noPrep,
    call: (client, target) => client.auditEvents({ workspaceId: target.id, first: 100 }),
    effect: async (result) => {
      const rows = await app.db.auditEvent.findMany({
        where: { workspaceId: shared.workspace.id },
        orderBy: { seq: "desc" },
      });
      expect(result.auditEvents.totalCount).toBe(rows.length);
      expect(result.auditEvents.edges.map((e) => e.node.id)).toEqual(rows.slice(0, 200).map((r) => r.id));
      expect(result.auditEvents.edges.map((e) => e.node.action)).toContain("workspace.create");
    },
    unchanged: nothing,
  }),
  "addMember MEMBER": spec({
    prepare: () => freshUser(),
    call: (client, target, user) =>
      client.addMember({ input: { workspaceId: target.id, email: user.email, role: "MEMBER" } }),
    effect: async (result, user) => {
      expect(result.addMember).toMatchObject({ role: "MEMBER", user: { id: user.id, email: user.email } });
      expect(await membershipRole(shared.workspace.id, user.id)).toBe("MEMBER");
    },
    unchanged: async (user) => expect(await membershipRole(shared.workspace.id, user.id)).toBeNull(),
  }),
  "addMember OWNER": spec({
    prepare: () => freshUser(),
    call: (client, target, user) =>
      client.addMember({ input: { workspaceId: target.id, email: user.email, role: "OWNER" } }),
    effect: async (result, user) => {
      expect(result.addMember).toMatchObject({ role: "OWNER", user: { id: user.id, email: user.email } });
      expect(await membershipRole(shared.workspace.id, user.id)).toBe("OWNER");
    },
    unchanged: async (user) => expect(await membershipRole(shared.workspace.id, user.id)).toBeNull(),
  }),
  "updateMemberRole on a MEMBER": spec({
    prepare: () => freshUser("MEMBER"),
    call: (client, target, user) =>
      client.updateMemberRole({ input: { workspaceId: target.id, userId: user.id, role: "MODERATOR" } }),
    effect: async (result, user) => {
      expect(result.updateMemberRole).toMatchObject({ role: "MODERATOR", user: { id: user.id } });
      expect(await membershipRole(shared.workspace.id, user.id)).toBe("MODERATOR");
    },
    unchanged: async (user) => expect(await membershipRole(shared.workspace.id, user.id)).toBe("MEMBER"),
  }),
  // A second OWNER, so that an allowed demotion is not refused as "last owner".
  "updateMemberRole on an OWNER": spec({
    prepare: () => freshUser("OWNER"),
    call: (client, target, user) =>
      client.updateMemberRole({ input: { workspaceId: target.id, userId: user.id, role: "ADMIN" } }),
    effect: async (result, user) => {
      expect(result.updateMemberRole).toMatchObject({ role: "ADMIN", user: { id: user.id } });
      expect(await membershipRole(shared.workspace.id, user.id)).toBe("ADMIN");
    },
    unchanged: async (user) => expect(await membershipRole(shared.workspace.id, user.id)).toBe("OWNER"),
  }),
  "removeMember of a MEMBER": spec({
    prepare: () => freshUser("MEMBER"),
    call: (client, target, user) => client.removeMember({ input: { workspaceId: target.id, userId: user.id } }),
    effect: async (result, user) => {
      expect(result.removeMember).toBe(true);
      expect(await membershipRole(shared.workspace.id, user.id)).toBeNull();
    },
    unchanged: async (user) => expect(await membershipRole(shared.workspace.id, user.id)).toBe("MEMBER"),
  }),
  createWorkspace: spec({
    prepare: async () => freshSlug("made-by"),
    call: (client, _target, slug) => client.createWorkspace({ input: { name: `Made ${slug}`, slug } }),
    effect: async (result, slug, caller) => {
      expect(result.createWorkspace).toMatchObject({ slug, name: `Made ${slug}`, viewerRole: "OWNER" });
      const callerId = shared.callers[caller].id;
      expect(callerId).not.toBeNull();
      expect(await membershipRole(result.createWorkspace.id, callerId as string)).toBe("OWNER");
    },
    unchanged: async (slug) => expect(await app.db.workspace.findUnique({ where: { slug } })).toBeNull(),
  }),
};

const errorShape = (error: KeywardError) => ({
  code: error.code,
  message: error.message,
  status: error.status,
  field: error.field,
  errors: error.errors.map((e) => ({ message: e.message, code: e.extensions?.code, path: e.path })),
});

beforeAll(async () => {
  const owner = await signUpUser(app, "owner");
  const slug = freshSlug("roles");
  const { createWorkspace: ws } = await owner.client.createWorkspace({ input: { name: "Roles Inc", slug } });
  const byRole = async (role: Role) => {
    const user = await signUpUser(app, role.toLowerCase());
    await owner.client.addMember({ input: { workspaceId: ws.id, email: user.email, role } });
    return { client: user.client, id: user.user.id, role };
  };
  const outsider = await signUpUser(app, "outsider");
  shared = {
    workspace: { id: ws.id, slug: ws.slug, name: ws.name },
    owner: { id: owner.user.id, email: owner.email, client: owner.client },
    callers: {
      OWNER: { client: owner.client, id: owner.user.id, role: "OWNER" },
      ADMIN: await byRole("ADMIN"),
      MODERATOR: await byRole("MODERATOR"),
      MEMBER: await byRole("MEMBER"),
      "non-member": { client: outsider.client, id: outsider.user.id, role: null },
      anonymous: { client: app.client(), id: null, role: null },
    },
  };
});

describe("the role matrix", () => {
  for (const caller of Object.keys(EXPECTED) as Caller[]) {
    describe(caller, () => {
      for (const op of OPS) {
        const outcome = EXPECTED[caller][op];
        it(`${op} → ${outcome}`, async () => {
          const s = SPECS[op];
          const prepared = await s.prepare();
          const { client } = shared.callers[caller];
          const target = { id: shared.workspace.id, slug: shared.workspace.slug };
          if (outcome === "allowed") {
            await s.effect(await s.call(client, target, prepared), prepared, caller);
            return;
          }
          const error = await expectCode(s.call(client, target, prepared), outcome);
          expect(error.status).toBe(STATUS[outcome]);
          await s.unchanged(prepared);
          if (outcome === "not_found") {
            // A workspace you do not belong to is indistinguishable from one that does not exist.
            const ghost = { id: randomUUID(), slug: freshSlug("ghost") };
            const ghostError = await expectCode(s.call(client, ghost, prepared), "not_found");
            expect(errorShape(error)).toEqual(errorShape(ghostError));
            await s.unchanged(prepared);
          }
        });
      }
    });
  }
});

describe("owners", () => {
  it("the last OWNER can neither demote nor remove themselves", async () => {
    const owner = await signUpUser(app, "solo");
    const { createWorkspace: ws } = await owner.client.createWorkspace({
      input: { name: "Solo", slug: freshSlug("solo") },
    });
    for (const role of ["ADMIN", "MODERATOR", "MEMBER"] as const) {
      const demote = await expectCode(
        owner.client.updateMemberRole({ input: { workspaceId: ws.id, userId: owner.user.id, role } }),
        "validation_failed",
      );
      expect(demote.field).toBe("role");
      expect(demote.status).toBe(400);
    }
    const remove = await expectCode(
      owner.client.removeMember({ input: { workspaceId: ws.id, userId: owner.user.id } }),
      "validation_failed",
    );
    expect(remove.field).toBe("userId");
    expect(await membershipRole(ws.id, owner.user.id)).toBe("OWNER");
    // Setting the same role again is harmless and changes nothing.
    const same = await owner.client.updateMemberRole({
      input: { workspaceId: ws.id, userId: owner.user.id, role: "OWNER" },
    });
    expect(same.updateMemberRole.role).toBe("OWNER");
  });

  it("with two OWNERs one can be demoted, after which the other is the last", async () => {
    const first = await signUpUser(app, "first");
    const second = await signUpUser(app, "second");
    const { createWorkspace: ws } = await first.client.createWorkspace({
      input: { name: "Pair", slug: freshSlug("pair") },
    });
    await first.client.addMember({ input: { workspaceId: ws.id, email: second.email, role: "OWNER" } });
    const demoted = await first.client.updateMemberRole({
      input: { workspaceId: ws.id, userId: first.user.id, role: "ADMIN" },
    });
    expect(demoted.updateMemberRole.role).toBe("ADMIN");
    expect(await membershipRole(ws.id, first.user.id)).toBe("ADMIN");
    const last = await expectCode(
      second.client.updateMemberRole({ input: { workspaceId: ws.id, userId: second.user.id, role: "ADMIN" } }),
      "validation_failed",
    );
    expect(last.field).toBe("role");
    const removeLast = await expectCode(
      second.client.removeMember({ input: { workspaceId: ws.id, userId: second.user.id } }),
      "validation_failed",
    );
    expect(removeLast.field).toBe("userId");
    // The demoted ADMIN cannot take ownership back or touch the remaining OWNER.
    await expectCode(
      first.client.updateMemberRole({ input: { workspaceId: ws.id, userId: first.user.id, role: "OWNER" } }),
      "insufficient_permissions",
    );
    await expectCode(
      first.client.removeMember({ input: { workspaceId: ws.id, userId: second.user.id } }),
      "insufficient_permissions",
    );
    expect(await membershipRole(ws.id, second.user.id)).toBe("OWNER");
    expect(await membershipRole(ws.id, first.user.id)).toBe("ADMIN");
  });

  it("with two OWNERs one can remove the other", async () => {
    const first = await signUpUser(app, "first");
    const second = await signUpUser(app, "second");
    const { createWorkspace: ws } = await first.client.createWorkspace({
      input: { name: "Pair", slug: freshSlug("pair") },
    });
    await first.client.addMember({ input: { workspaceId: ws.id, email: second.email, role: "OWNER" } });
    const removed = await second.client.removeMember({ input: { workspaceId: ws.id, userId: first.user.id } });
    expect(removed.removeMember).toBe(true);
    expect(await membershipRole(ws.id, first.user.id)).toBeNull();
    await expectCode(first.client.workspace({ id: ws.id }), "not_found");
  });
});

describe("member input", () => {
  let owner: Awaited<ReturnType<typeof signUpUser>>;
  let ws: { id: string };
  beforeAll(async () => {
    owner = await signUpUser(app, "inputs");
    ws = (await owner.client.createWorkspace({ input: { name: "Inputs", slug: freshSlug("inputs") } })).createWorkspace;
  });

  async function raw(query: string, variables: Record<string, unknown>) {
    const response = await app.fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json",
        authorization: `Bearer ${owner.token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: { code?: string; http?: { status?: number } } }[];
    };
    return { status: response.status, body };
  }

  it("refuses an unknown role string with validation_failed", async () => {
    const target = await signUpUser(app, "badrole");
    const viaVariables = await raw("mutation ($input: AddMemberInput!) { addMember(input: $input) { role } }", {
      input: { workspaceId: ws.id, email: target.email, role: "SUPERUSER" },
    });
    expect(viaVariables.body.errors?.[0]?.extensions?.code).toBe("validation_failed");
    expect(viaVariables.body.errors?.[0]?.extensions?.http?.status).toBe(400);
    expect(viaVariables.status).toBe(400);
    expect(viaVariables.body.data ?? null).toBeNull();
    const inline = await raw(
      `mutation { addMember(input: { workspaceId: "${ws.id}", email: "${target.email}", role: SUPERUSER }) { role } }`,
      {},
    );
    expect(inline.body.errors?.[0]?.extensions?.code).toBe("validation_failed");
    expect(inline.status).toBe(400);
    const lowercase = await raw("mutation ($input: AddMemberInput!) { addMember(input: $input) { role } }", {
      input: { workspaceId: ws.id, email: target.email, role: "owner" },
    });
    expect(lowercase.body.errors?.[0]?.extensions?.code).toBe("validation_failed");
    expect(await membershipRole(ws.id, target.user.id)).toBeNull();

    await owner.client.addMember({ input: { workspaceId: ws.id, email: target.email, role: "MEMBER" } });
    const update = await raw("mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }", {
      input: { workspaceId: ws.id, userId: target.user.id, role: "GOD" },
    });
    expect(update.body.errors?.[0]?.extensions?.code).toBe("validation_failed");
    expect(update.status).toBe(400);
    expect(await membershipRole(ws.id, target.user.id)).toBe("MEMBER");
  });

  it("addMember with an email nobody signed up with is not_found", async () => {
    const error = await expectCode(
      owner.client.addMember({ input: { workspaceId: ws.id, email: "nobody-here@example.com", role: "MEMBER" } }),
      "not_found",
    );
    expect(error.status).toBe(404);
    expect(error.field).toBe("email");
  });

  it("adding someone who is already a member is validation_failed and keeps their role", async () => {
    const target = await signUpUser(app, "twice");
    await owner.client.addMember({ input: { workspaceId: ws.id, email: target.email, role: "MODERATOR" } });
    const error = await expectCode(
      owner.client.addMember({ input: { workspaceId: ws.id, email: target.email, role: "ADMIN" } }),
      "validation_failed",
    );
    expect(error.field).toBe("email");
    expect(await membershipRole(ws.id, target.user.id)).toBe("MODERATOR");
    // The owner themselves is a member too.
    await expectCode(
      owner.client.addMember({ input: { workspaceId: ws.id, email: owner.email, role: "MEMBER" } }),
      "validation_failed",
    );
    expect(await membershipRole(ws.id, owner.user.id)).toBe("OWNER");
  });

  it("a malformed userId is not_found, not a crash", async () => {
    const update = await expectCode(
      owner.client.updateMemberRole({ input: { workspaceId: ws.id, userId: "not-a-uuid", role: "MEMBER" } }),
      "not_found",
    );
    expect(update.status).toBe(404);
    const remove = await expectCode(
      owner.client.removeMember({ input: { workspaceId: ws.id, userId: "not-a-uuid" } }),
      "not_found",
    );
    expect(remove.status).toBe(404);
    // A well-formed id of someone who is not a member answers the same way.
    const stranger = await expectCode(
      owner.client.removeMember({ input: { workspaceId: ws.id, userId: randomUUID() } }),
      "not_found",
    );
    expect(stranger.message).toBe(remove.message);
  });

  it("a malformed workspaceId is not_found for every member operation", async () => {
    const target = await signUpUser(app, "wsid");
    await expectCode(
      owner.client.addMember({ input: { workspaceId: "not-a-uuid", email: target.email, role: "MEMBER" } }),
      "not_found",
    );
    await expectCode(
      owner.client.updateMemberRole({ input: { workspaceId: "not-a-uuid", userId: target.user.id, role: "MEMBER" } }),
      "not_found",
    );
    await expectCode(
      owner.client.removeMember({ input: { workspaceId: "not-a-uuid", userId: target.user.id } }),
      "not_found",
    );
    await expectCode(owner.client.workspace({ id: "not-a-uuid" }), "not_found");
  });
});

describe("roles are per workspace", () => {
  it("changing a user's role in one workspace leaves their role in another alone", async () => {
    const ownerA = await signUpUser(app, "ownera");
    const ownerB = await signUpUser(app, "ownerb");
    const both = await signUpUser(app, "both");
    const { createWorkspace: a } = await ownerA.client.createWorkspace({
      input: { name: "A", slug: freshSlug("per-a") },
    });
    const { createWorkspace: b } = await ownerB.client.createWorkspace({
      input: { name: "B", slug: freshSlug("per-b") },
    });
    await ownerA.client.addMember({ input: { workspaceId: a.id, email: both.email, role: "MEMBER" } });
    await ownerB.client.addMember({ input: { workspaceId: b.id, email: both.email, role: "MEMBER" } });

    await ownerA.client.updateMemberRole({ input: { workspaceId: a.id, userId: both.user.id, role: "ADMIN" } });
    expect(await membershipRole(a.id, both.user.id)).toBe("ADMIN");
    expect(await membershipRole(b.id, both.user.id)).toBe("MEMBER");
    expect((await both.client.workspace({ id: a.id })).workspace.viewerRole).toBe("ADMIN");
    expect((await both.client.workspace({ id: b.id })).workspace.viewerRole).toBe("MEMBER");
    // ADMIN powers in A do not carry over to B.
    await expectCode(both.client.auditEvents({ workspaceId: b.id }), "insufficient_permissions");
    await expectCode(both.client.workspaceMembers({ id: b.id }), "insufficient_permissions");
    const stranger = await signUpUser(app, "stranger");
    await expectCode(
      both.client.addMember({ input: { workspaceId: b.id, email: stranger.email, role: "MEMBER" } }),
      "insufficient_permissions",
    );
    expect((await both.client.auditEvents({ workspaceId: a.id })).auditEvents.totalCount).toBeGreaterThan(0);

    // Removing them from B leaves A alone too.
    await ownerB.client.removeMember({ input: { workspaceId: b.id, userId: both.user.id } });
    expect(await membershipRole(b.id, both.user.id)).toBeNull();
    expect(await membershipRole(a.id, both.user.id)).toBe("ADMIN");
    const { me } = await both.client.me();
    expect(me?.memberships.map((m) => [m.workspace.id, m.role])).toEqual([[a.id, "ADMIN"]]);
  });
});
