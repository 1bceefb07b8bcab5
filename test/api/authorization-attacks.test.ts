import { randomUUID } from "node:crypto";
import type { CreateApiKeyInput, KeywardClient } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatformAdmin } from "../../server/identity/accounts";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";
import { EXPECTED_WORKSPACE_SCOPES } from "../helpers/vocabulary";

// What a caller may put on a key or a membership, written as the attacks these rules
// stop: minting `*` without being a platform admin, a key granting service scopes it
// does not hold, an IP allowlist that a publishable key would silently ignore, and
// each role granting past its row of the role table. A refusal writes nothing.

type Person = Awaited<ReturnType<typeof signUpUser>>;
type Role = "OWNER" | "ADMIN" | "MODERATOR";

let app: TestApp;
let ws: { id: string };
const people = {} as Record<Role, Person>;
let platformAdmin: { id: string; client: KeywardClient };
let serial = 0;

beforeAll(async () => {
  app = await startTestApp();
  people.OWNER = await signUpUser(app, "owner");
  people.ADMIN = await signUpUser(app, "admin");
  people.MODERATOR = await signUpUser(app, "moderator");
  const slug = `grant-attacks-${process.pid}`;
  ws = (await people.OWNER.client.createWorkspace({ input: { name: "Grant Attacks", slug } })).createWorkspace;
  for (const role of ["ADMIN", "MODERATOR"] as const) {
    await people.OWNER.client.addMember({ input: { workspaceId: ws.id, email: people[role].email, role } });
  }
  // Service scopes name services of the workspace.
  for (const service of ["forms", "billing"]) {
    await people.OWNER.client.createService({ input: { workspaceId: ws.id, slug: service, name: service } });
  }
  // Platform admins come from the admin CLI only; this is the function it calls.
  const email = uniqueEmail("platform-admin");
  const made = await createPlatformAdmin(app.db, { email, password: PASSWORD, name: "Operator" }, app.clock.now);
  if (!made.ok) throw new Error(made.error.message);
  const { signIn } = await app.client().signIn({ input: { email, password: PASSWORD } });
  platformAdmin = { id: made.value.id, client: app.client(signIn.token) };
});
afterAll(() => app?.close());

const input = (scopes: string[], extra: Partial<CreateApiKeyInput> = {}): CreateApiKeyInput => ({
  workspaceId: ws.id,
  name: `Attack Key ${++serial} ${randomUUID().slice(0, 8)}`,
  type: "SECRET",
  environment: "LIVE",
  scopes,
  ...extra,
});

async function makeKey(client: KeywardClient, scopes: string[], extra: Partial<CreateApiKeyInput> = {}) {
  const { createApiKey } = await client.createApiKey({ input: input(scopes, extra) });
  return { id: createApiKey.apiKey.id, secret: createApiKey.secret, scopes: createApiKey.apiKey.scopes };
}

/** Every key row (but lastUsedAt, written in the background) and the audit log's size. */
async function snapshot() {
  const keys = await app.db.$queryRaw<{ row: string }[]>`
    SELECT (row_to_json(k)::jsonb - 'last_used_at')::text AS row FROM api_keys k ORDER BY id`;
  return { keys: keys.map((k) => k.row), audit: await app.db.auditEvent.count() };
}

/** The call is refused with `code` and leaves every key and the audit log as they were. */
async function refusedWithoutTrace(call: () => Promise<unknown>, code: string, field?: string) {
  const before = await snapshot();
  const error = await expectCode(call(), code);
  expect({ field: error.field, status: error.status }).toEqual({
    field,
    status: code === "validation_failed" ? 400 : 403,
  });
  expect(await snapshot()).toEqual(before);
  return error;
}

const RESERVED = /"\*" scope is reserved for platform admins/;

describe('the "*" scope belongs to platform admins only', () => {
  let star: { id: string; secret: string };
  beforeAll(async () => {
    star = await makeKey(platformAdmin.client, ["*"]);
  });

  it('a platform admin, though no member of the workspace, can grant "*"', async () => {
    const made = await makeKey(platformAdmin.client, ["*"]);
    expect(made.scopes).toEqual(["*"]);
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: made.id } });
    expect(row).toMatchObject({ workspaceId: ws.id, scopes: ["*"], createdById: platformAdmin.id });
  });

  it('a "*" key cannot create another "*" key', async () => {
    const client = app.client(star.secret);
    const error = await refusedWithoutTrace(
      () => client.createApiKey({ input: input(["*"]) }),
      "insufficient_permissions",
      "scopes",
    );
    expect(error.message).toMatch(RESERVED);
  });

  it('a "*" key cannot widen another key to "*"', async () => {
    const victim = await makeKey(people.OWNER.client, ["keys:read"]);
    const client = app.client(star.secret);
    const error = await refusedWithoutTrace(
      () => client.updateApiKey({ input: { id: victim.id, scopes: ["*"] } }),
      "insufficient_permissions",
      "scopes",
    );
    expect(error.message).toMatch(RESERVED);
  });

  it('a "*" key cannot roll itself into a fresh "*" key', async () => {
    const client = app.client(star.secret);
    const error = await refusedWithoutTrace(
      () => client.rollApiKey({ input: { id: star.id, gracePeriodSeconds: 60 } }),
      "insufficient_permissions",
      "scopes",
    );
    expect(error.message).toMatch(RESERVED);
  });

  it('control: the same "*" key may grant every named scope', async () => {
    const every = ["keys:read", "keys:write", "members:write", "audit:read", "webhooks:write", "service.forms.write"];
    expect((await makeKey(app.client(star.secret), every)).scopes).toEqual(every);
  });

  it('a workspace OWNER who is no platform admin cannot grant "*", at create or update', async () => {
    const owner = people.OWNER.client;
    const created = await refusedWithoutTrace(
      () => owner.createApiKey({ input: input(["keys:read", "*"]) }),
      "insufficient_permissions",
      "scopes",
    );
    expect(created.message).toMatch(RESERVED);
    const victim = await makeKey(owner, ["keys:read"]);
    const updated = await refusedWithoutTrace(
      () => owner.updateApiKey({ input: { id: victim.id, scopes: ["*"] } }),
      "insufficient_permissions",
      "scopes",
    );
    expect(updated.message).toMatch(RESERVED);
  });
});

describe("service scopes: members with keys:write grant any, keys only those they hold", () => {
  it("a key holding only keys:write cannot create a key with service.forms.read", async () => {
    const { secret } = await makeKey(people.OWNER.client, ["keys:write"]);
    const error = await refusedWithoutTrace(
      () => app.client(secret).createApiKey({ input: input(["service.forms.read"]) }),
      "insufficient_permissions",
      "scopes",
    );
    expect(error.message).toContain("service.forms.read");
  });

  it("a key holding only keys:write cannot give an existing key service.forms.read", async () => {
    const { secret } = await makeKey(people.OWNER.client, ["keys:write"]);
    const victim = await makeKey(people.OWNER.client, ["keys:read"]);
    await refusedWithoutTrace(
      () => app.client(secret).updateApiKey({ input: { id: victim.id, scopes: ["service.forms.read"] } }),
      "insufficient_permissions",
      "scopes",
    );
  });

  it("a key holding only keys:write cannot roll a service.billing.charge key (a roll mints its scopes anew)", async () => {
    const { secret } = await makeKey(people.OWNER.client, ["keys:write"]);
    const victim = await makeKey(people.OWNER.client, ["service.billing.charge"]);
    await refusedWithoutTrace(
      () => app.client(secret).rollApiKey({ input: { id: victim.id, gracePeriodSeconds: 60 } }),
      "insufficient_permissions",
      "scopes",
    );
  });

  it("a key holding service.forms.read may grant it, but not service.forms.write", async () => {
    const holder = app.client((await makeKey(people.OWNER.client, ["keys:write", "service.forms.read"])).secret);
    expect((await makeKey(holder, ["service.forms.read"])).scopes).toEqual(["service.forms.read"]);
    await refusedWithoutTrace(
      () => holder.createApiKey({ input: input(["service.forms.write"]) }),
      "insufficient_permissions",
      "scopes",
    );
  });

  it("a MODERATOR may grant service scopes, which no role holds by name", async () => {
    const scopes = ["service.forms.write", "service.billing.charge"];
    const made = await makeKey(people.MODERATOR.client, scopes);
    expect((await app.db.apiKey.findUniqueOrThrow({ where: { id: made.id } })).scopes).toEqual(scopes);
  });
});

describe("a publishable key takes no IP allowlist (key use checks IPs on secret keys only)", () => {
  const browser = { type: "PUBLISHABLE" as const, allowedOrigins: ["https://app.example.com"] };

  it("a publishable key with an IP allowlist is refused at create", async () => {
    const client = people.OWNER.client;
    const error = await refusedWithoutTrace(
      () => client.createApiKey({ input: input(["keys:read"], { ...browser, allowedIps: ["203.0.113.0/24"] }) }),
      "validation_failed",
      "allowedIps",
    );
    expect(error.message).toMatch(/publishable keys use allowedOrigins/);
  });

  it("an IP allowlist added to a publishable key is refused at update", async () => {
    const client = people.OWNER.client;
    const pk = await makeKey(client, ["keys:read"], browser);
    await refusedWithoutTrace(
      () => client.updateApiKey({ input: { id: pk.id, allowedIps: ["203.0.113.7"] } }),
      "validation_failed",
      "allowedIps",
    );
    expect((await app.db.apiKey.findUniqueOrThrow({ where: { id: pk.id } })).allowedIps).toEqual([]);
  });
});

// The role table (README "Roles"), seen through the one place every workspace scope
// is observable: what a member may put on a key is exactly what their role holds.
const ROLE_TABLE: Record<Role, string[]> = {
  OWNER: EXPECTED_WORKSPACE_SCOPES,
  ADMIN: EXPECTED_WORKSPACE_SCOPES,
  MODERATOR: ["keys:read", "keys:write", "keys:verify", "members:read", "workspace:read"],
};

describe("each role grants exactly the scopes of its row in the role table", () => {
  const rows = (Object.keys(ROLE_TABLE) as Role[]).flatMap((role) =>
    EXPECTED_WORKSPACE_SCOPES.map((scope) => ({
      role,
      scope,
      verdict: ROLE_TABLE[role].includes(scope) ? "allowed" : "insufficient_permissions",
    })),
  );

  it.each(rows)("$role granting $scope → $verdict", async ({ role, scope, verdict }) => {
    const client = people[role].client;
    if (verdict === "allowed") {
      expect((await makeKey(client, [scope])).scopes).toEqual([scope]);
      return;
    }
    await refusedWithoutTrace(() => client.createApiKey({ input: input([scope]) }), verdict, "scopes");
  });
});

describe("nobody hands out a role above their own; a key acts as ADMIN", () => {
  const roleOf = async (userId: string) =>
    (await app.db.membership.findUnique({ where: { workspaceId_userId: { workspaceId: ws.id, userId } } }))?.role ??
    null;

  it("an ADMIN may make someone ADMIN, their own rank, but not OWNER", async () => {
    const admin = people.ADMIN.client;
    const added = await signUpUser(app, "added");
    await admin.addMember({ input: { workspaceId: ws.id, email: added.email, role: "ADMIN" } });
    expect(await roleOf(added.user.id)).toBe("ADMIN");
    const promoted = await signUpUser(app, "promoted");
    await people.OWNER.client.addMember({ input: { workspaceId: ws.id, email: promoted.email, role: "MEMBER" } });
    await admin.updateMemberRole({ input: { workspaceId: ws.id, userId: promoted.user.id, role: "ADMIN" } });
    expect(await roleOf(promoted.user.id)).toBe("ADMIN");
    await expectCode(
      admin.updateMemberRole({ input: { workspaceId: ws.id, userId: promoted.user.id, role: "OWNER" } }),
      "insufficient_permissions",
    );
    expect(await roleOf(promoted.user.id)).toBe("ADMIN");
  });

  it("a members:write key may add an ADMIN but cannot add an OWNER, promote to OWNER or remove one", async () => {
    const key = app.client((await makeKey(people.OWNER.client, ["members:write"])).secret);
    const [asAdmin, asOwner] = [await signUpUser(app, "by-key"), await signUpUser(app, "not-owner")];
    await key.addMember({ input: { workspaceId: ws.id, email: asAdmin.email, role: "ADMIN" } });
    expect(await roleOf(asAdmin.user.id)).toBe("ADMIN");
    await expectCode(
      key.addMember({ input: { workspaceId: ws.id, email: asOwner.email, role: "OWNER" } }),
      "insufficient_permissions",
    );
    expect(await roleOf(asOwner.user.id)).toBeNull();
    await expectCode(
      key.updateMemberRole({ input: { workspaceId: ws.id, userId: asAdmin.user.id, role: "OWNER" } }),
      "insufficient_permissions",
    );
    await expectCode(
      key.removeMember({ input: { workspaceId: ws.id, userId: people.OWNER.user.id } }),
      "insufficient_permissions",
    );
    expect([await roleOf(asAdmin.user.id), await roleOf(people.OWNER.user.id)]).toEqual(["ADMIN", "OWNER"]);
  });
});
