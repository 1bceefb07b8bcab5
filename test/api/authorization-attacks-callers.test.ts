import { randomUUID } from "node:crypto";
import type { KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireWorkspace } from "../../server/auth/access";
import { buildContext } from "../../server/context";
import { createPlatformAdmin } from "../../server/identity/accounts";
import { PASSWORD, signUpUser, startTestApp, TEST_IP, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Who is calling, written as the attacks these rules stop: reading someone else's
// memberships, probing key ids without signing in, an API key using operations
// meant for people or naming another workspace, and (the other way round) a
// platform admin who must act as OWNER in a workspace they do not belong to.

type Person = Awaited<ReturnType<typeof signUpUser>>;
interface Ws {
  id: string;
  slug: string;
  name: string;
}

let app: TestApp;
let a: Ws;
let b: Ws;
/** The member's and the owner's own workspaces: nobody else in this file belongs to them. */
let privateWs: Ws;
let ownersPrivateWs: Ws;
let ownerA: Person;
let memberA: Person;
let moderatorA: Person;
/** A LIVE secret key of A with every scope the probes below need. */
let keyA: { id: string; secret: string };
/** A publishable key of A, used from its allowed origin. */
let pkA: KeywardClient;
let serial = 0;
const fresh = (label: string) => `${label}-${process.pid}-${++serial}`;

async function workspaceOf(person: Person, label: string): Promise<Ws> {
  const { createWorkspace } = await person.client.createWorkspace({
    input: { name: `${label} Ltd`, slug: fresh(label) },
  });
  return { id: createWorkspace.id, slug: createWorkspace.slug, name: createWorkspace.name };
}

async function makeKey(client: KeywardClient, workspaceId: string, scopes: string[], origin?: string) {
  const { createApiKey } = await client.createApiKey({
    input: {
      workspaceId,
      name: fresh("Caller Key"),
      type: origin ? "PUBLISHABLE" : "SECRET",
      environment: "LIVE",
      scopes,
      allowedOrigins: origin ? [origin] : undefined,
    },
  });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
}

beforeAll(async () => {
  app = await startTestApp();
  ownerA = await signUpUser(app, "owner-a");
  memberA = await signUpUser(app, "member-a");
  moderatorA = await signUpUser(app, "moderator-a");
  a = await workspaceOf(ownerA, "aardvark");
  b = await workspaceOf(await signUpUser(app, "owner-b"), "bonobo");
  privateWs = await workspaceOf(memberA, "hidden-heron");
  ownersPrivateWs = await workspaceOf(ownerA, "secret-serval");
  await ownerA.client.addMember({ input: { workspaceId: a.id, email: memberA.email, role: "MEMBER" } });
  await ownerA.client.addMember({ input: { workspaceId: a.id, email: moderatorA.email, role: "MODERATOR" } });
  keyA = await makeKey(ownerA.client, a.id, ["keys:read", "keys:write", "members:write", "workspace:read"]);
  const origin = "https://app.example.com";
  pkA = app.client((await makeKey(ownerA.client, a.id, ["keys:read"], origin)).secret, { Origin: origin });
});
afterAll(() => app?.close());

/** A whole GraphQL exchange, to see data and errors together; a fixed request id makes bodies comparable. */
async function raw(authorization: string | null, query: string, variables: Record<string, unknown> = {}) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json",
    "x-request-id": "attack-probe",
  };
  if (authorization !== null) headers.authorization = authorization;
  const response = await app.fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  const body = JSON.parse(text) as {
    data?: unknown;
    errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[];
  };
  return { status: response.status, text, body };
}

const snapshot = async () => ({
  keys: (await app.db.apiKey.findMany({ orderBy: { id: "asc" } })).map(({ lastUsedAt: _, ...row }) => row),
  workspaces: await app.db.workspace.count(),
  members: await app.db.membership.count(),
  sessions: await app.db.session.findMany({ orderBy: { id: "asc" } }),
  audit: await app.db.auditEvent.count(),
});

describe("memberships are visible on yourself only", () => {
  function expectRefusedWithoutLeak(result: Awaited<ReturnType<typeof raw>>, hidden: Ws) {
    const errors = result.body.errors ?? [];
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect({ code: error.extensions?.code, message: error.message, last: error.path?.at(-1) }).toEqual({
        code: "insufficient_permissions",
        message: "Only your own memberships are visible.",
        last: "memberships",
      });
    }
    for (const value of [hidden.id, hidden.slug, hidden.name])
      expect(result.text, `leaks ${value}`).not.toContain(value);
  }

  it("an OWNER cannot read a member's other workspaces through workspace.members", async () => {
    const query = `query ($id: ID!) { workspace(id: $id) { members { role user { id memberships { role workspace { id slug name } } } } } }`;
    expectRefusedWithoutLeak(await raw(`Bearer ${ownerA.token}`, query, { id: a.id }), privateWs);
  });

  it("neither a MODERATOR nor an API key can read a key creator's memberships through createdBy", async () => {
    const made = await makeKey(ownerA.client, a.id, ["keys:read"]);
    const query = `query ($id: ID!) { apiKey(id: $id) { id createdBy { id memberships { workspace { id slug name } } } } }`;
    expectRefusedWithoutLeak(await raw(`Bearer ${moderatorA.token}`, query, { id: made.id }), ownersPrivateWs);
    expectRefusedWithoutLeak(await raw(`Bearer ${keyA.secret}`, query, { id: made.id }), ownersPrivateWs);
  });

  it("control: a user reads their own memberships through me", async () => {
    const { me } = await memberA.client.me();
    expect(me?.memberships.map((m) => [m.workspace.id, m.role]).sort()).toEqual(
      [
        [a.id, "MEMBER"],
        [privateWs.id, "OWNER"],
      ].sort(),
    );
  });
});

describe("a caller who is not signed in cannot tell real key ids from made-up ones", () => {
  const OPS: Record<string, string> = {
    apiKey: "query ($id: ID!) { apiKey(id: $id) { id name } }",
    updateApiKey: 'mutation ($id: ID!) { updateApiKey(input: { id: $id, name: "Probed" }) { id } }',
    rollApiKey: "mutation ($id: ID!) { rollApiKey(input: { id: $id, gracePeriodSeconds: 0 }) { secret } }",
    revokeApiKey: "mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { id } }",
  };
  const credentials: { label: string; header: () => string | null; code: string }[] = [
    { label: "no credential", header: () => null, code: "authentication_required" },
    { label: "Bearer garbage", header: () => "Bearer garbage", code: "authentication_required" },
    { label: "a Basic header", header: () => "Basic dXNlcjpwYXNz", code: "authentication_required" },
    { label: "a signed-out session", header: () => `Bearer ${signedOut}`, code: "authentication_required" },
    { label: "a key with a bad checksum", header: () => `Bearer ${tampered}`, code: "invalid_key_format" },
    { label: "a revoked key", header: () => `Bearer ${revoked}`, code: "invalid_api_key" },
  ];
  let signedOut: string;
  let tampered: string;
  let revoked: string;
  let target: string;
  beforeAll(async () => {
    const leaver = await signUpUser(app, "leaver");
    await leaver.client.signOut();
    signedOut = leaver.token;
    const last = keyA.secret.slice(-1);
    tampered = keyA.secret.slice(0, -1) + (last === "A" ? "B" : "A");
    const gone = await makeKey(ownerA.client, a.id, ["keys:read"]);
    await ownerA.client.revokeApiKey({ input: { id: gone.id } });
    revoked = gone.secret;
    target = (await makeKey(ownerA.client, a.id, ["keys:read"])).id;
  });

  const rows = credentials.flatMap((credential) => Object.keys(OPS).map((op) => ({ ...credential, op })));
  it.each(rows)("$label: $op answers $code alike for a real, a made-up and a garbled id", async (row) => {
    const before = await snapshot();
    const header = row.header();
    const real = await raw(header, OPS[row.op] as string, { id: target });
    expect(real.body.errors?.map((e) => e.extensions?.code)).toEqual([row.code]);
    expect(real.status).toBe(401);
    for (const id of [randomUUID(), "not-a-key-id"]) {
      const probe = await raw(header, OPS[row.op] as string, { id });
      expect({ status: probe.status, text: probe.text }).toEqual({ status: real.status, text: real.text });
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("API keys cannot use operations meant for signed-in people", () => {
  it("a secret key cannot create a workspace or sign out", async () => {
    const before = await snapshot();
    const key = app.client(keyA.secret);
    const calls = [
      () => key.createWorkspace({ input: { name: "By Key", slug: fresh("by-key") } }),
      () => key.signOut(),
    ];
    for (const call of calls) {
      const error = await expectCode(call(), "insufficient_permissions");
      expect(error.message).toMatch(/needs a signed-in user/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("a publishable key is told that it cannot write", async () => {
    const before = await snapshot();
    const calls = [() => pkA.createWorkspace({ input: { name: "By PK", slug: fresh("by-pk") } }), () => pkA.signOut()];
    for (const call of calls) {
      expect((await expectCode(call(), "publishable_key_write")).status).toBe(403);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("a key reading a workspace by id or slug gets one answer for its own, another's and a made-up one", async () => {
    const key = app.client(keyA.secret);
    const refs = [
      { id: a.id },
      { slug: a.slug },
      { id: b.id },
      { slug: b.slug },
      { id: randomUUID() },
      { slug: fresh("nowhere") },
    ];
    const answers = new Set<string>();
    for (const ref of refs) {
      const error = await expectCode(key.workspace(ref), "insufficient_permissions");
      answers.add(JSON.stringify([error.message, error.status]));
    }
    expect(answers.size).toBe(1);
  });
});

describe("a key acts only in its own workspace", () => {
  it("naming workspace B, a made-up workspace or none at all gets one answer and writes nothing", async () => {
    const before = await snapshot();
    const key = app.client(keyA.secret);
    const answers = new Set<string>();
    for (const workspaceId of [b.id, randomUUID(), "not-a-workspace", ""]) {
      const calls = [
        () =>
          key.createApiKey({
            input: { workspaceId, name: "Elsewhere", type: "SECRET", environment: "LIVE", scopes: [] },
          }),
        () => key.apiKeys({ workspaceId, environment: "LIVE" }),
        () => key.addMember({ input: { workspaceId, email: memberA.email, role: "ADMIN" } }),
      ];
      for (const call of calls) {
        const error = await expectCode(call(), "workspace_access_denied");
        answers.add(JSON.stringify([error.message, error.status, error.field]));
      }
    }
    expect(answers.size).toBe(1);
    expect(await snapshot()).toEqual(before);
  });

  // No operation hands a key's slug to the access check today (workspace(slug:) is for
  // people only), so the rule is asked directly: it must hold when one does.
  it("the access check refuses a key naming another workspace's slug exactly like a made-up slug", async () => {
    const ctx = await buildContext(app.deps, new Headers({ authorization: `Bearer ${keyA.secret}` }), {
      id: "slug-probe",
      startedAt: 0,
      ip: TEST_IP,
    });
    const other = await requireWorkspace(ctx, { slug: b.slug }, "workspace:read");
    const madeUp = await requireWorkspace(ctx, { slug: fresh("nowhere") }, "workspace:read");
    expect(other).toEqual({ ok: false, error: expect.objectContaining({ code: "workspace_access_denied" }) });
    expect(madeUp).toEqual(other);
    const own = await requireWorkspace(ctx, { slug: a.slug }, "workspace:read");
    expect(own.ok && own.value.workspace.id).toBe(a.id);
  });
});

describe("a platform admin acts as OWNER in a workspace they do not belong to", () => {
  let admin: { id: string; client: KeywardClient };
  beforeAll(async () => {
    const email = uniqueEmail("platform-admin");
    const made = await createPlatformAdmin(app.db, { email, password: PASSWORD, name: "Operator" }, app.clock.now);
    if (!made.ok) throw new Error(made.error.message);
    const { signIn } = await app.client().signIn({ input: { email, password: PASSWORD } });
    admin = { id: made.value.id, client: app.client(signIn.token) };
  });

  it("reads the workspace by slug as OWNER, with its members and audit log", async () => {
    expect((await admin.client.workspace({ slug: b.slug })).workspace).toMatchObject({ id: b.id, viewerRole: "OWNER" });
    const { workspace } = await admin.client.workspaceMembers({ id: b.id });
    expect(workspace.members.map((m) => m.role)).toEqual(["OWNER"]);
    const { auditEvents } = await admin.client.auditEvents({ workspaceId: b.id });
    expect(auditEvents.edges.map((e) => e.node.action)).toContain("workspace.create");
  });

  it("creates and lists keys there and hands out OWNER, still without a membership", async () => {
    const made = await makeKey(admin.client, b.id, ["keys:read"]);
    const { apiKeys } = await admin.client.apiKeys({ workspaceId: b.id, environment: "LIVE" });
    expect(apiKeys.edges.map((e) => e.node.id)).toContain(made.id);
    const newOwner = await signUpUser(app, "crowned");
    const { addMember } = await admin.client.addMember({
      input: { workspaceId: b.id, email: newOwner.email, role: "OWNER" },
    });
    expect(addMember).toMatchObject({ role: "OWNER", user: { id: newOwner.user.id } });
    expect(await app.db.membership.count({ where: { userId: admin.id } })).toBe(0);
  });

  it("still gets not_found for a workspace that does not exist", async () => {
    await expectCode(admin.client.workspace({ id: randomUUID() }), "not_found");
    await expectCode(admin.client.workspace({ slug: fresh("nowhere") }), "not_found");
  });
});
