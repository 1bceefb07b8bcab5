import { describe, expect, it, vi } from "vitest";
import {
  nobody,
  platformAdmin,
  publishableWrite,
  requireApiKey,
  requireService,
  requireWorkspace,
  signedInUser,
  verifiableBy,
  verifierCaller,
  workspaceReader,
} from "../../server/auth/access";
import type { Permission } from "../../server/auth/permissions";
import type { Principal } from "../../server/auth/principal";
import type { Context } from "../../server/context";
import type {
  ApiKey,
  Membership,
  PlatformKey,
  Role,
  Service,
  User,
  Workspace,
} from "../../server/generated/prisma/client";

// Every decision of server/auth/access.ts for people and workspace keys, without the
// shield or a database in front: each refusal is asserted whole (code, message, field)
// and each admission with the caller it builds, so a changed rule or a weakened
// refusal fails here in milliseconds. The API suites prove the same rules end to end.

const A = "11111111-1111-4111-8111-111111111111";
const B = "22222222-2222-4222-8222-222222222222";
const KEY_ID = "33333333-3333-4333-8333-333333333333";
const OTHER_KEY_ID = "44444444-4444-4444-8444-444444444444";
const SERVICE_ID = "55555555-5555-4555-8555-555555555555";
const IP = "203.0.113.7";

const workspaceA = { id: A, slug: "acme" } as Workspace;
const workspaceB = { id: B, slug: "bolt" } as Workspace;
const ada = { id: "u-ada", isPlatformAdmin: false } as User;
const root = { id: "u-root", isPlatformAdmin: true } as User;

function key(type: "SECRET" | "PUBLISHABLE", scopes: string[], over: Partial<ApiKey> = {}): ApiKey {
  return { id: "k-caller", type, scopes, environment: "LIVE", workspaceId: A, ...over } as ApiKey;
}

const asKey = (k: ApiKey): Principal => ({
  kind: "key",
  key: k,
  workspace: { id: A, slug: "acme", keysEnabled: true } as Extract<Principal, { kind: "key" }>["workspace"],
});
const asUser = (user: User): Principal => ({ kind: "user", user, sessionId: "s-1" });
const platformKey = (scopes: string[]): Principal => ({ kind: "platform", key: { id: "p-1", scopes } as PlatformKey });
const anonymous: Principal = { kind: "anonymous" };
const invalidFailure = { code: "invalid_api_key" as const, message: "Unknown API key." };
const invalid: Principal = { kind: "invalid", failure: invalidFailure };

const stored: Record<string, ApiKey> = {
  [KEY_ID]: { id: KEY_ID, workspaceId: A, environment: "LIVE" } as ApiKey,
  [OTHER_KEY_ID]: { id: OTHER_KEY_ID, workspaceId: B, environment: "LIVE" } as ApiKey,
};

function context(principal: Principal, roles: Record<string, Role> = {}, services: Service[] = []) {
  const loaders = {
    workspace: { load: vi.fn(async (id: string) => [workspaceA, workspaceB].find((w) => w.id === id) ?? null) },
    workspaceBySlug: {
      load: vi.fn(async (slug: string) => [workspaceA, workspaceB].find((w) => w.slug === slug) ?? null),
    },
    apiKey: { load: vi.fn(async (id: string) => stored[id] ?? null) },
    // Keyed `${userId}:${workspaceId}`, as the real loader is.
    membership: { load: vi.fn(async (pair: string) => (roles[pair] ? ({ role: roles[pair] } as Membership) : null)) },
  };
  const db = {
    service: {
      findUnique: vi.fn(
        async ({ where }: { where: { id: string } }) => services.find((s) => s.id === where.id) ?? null,
      ),
    },
  };
  return { principal, loaders, db, ip: IP } as unknown as Context & { loaders: typeof loaders; db: typeof db };
}

const refusal = (code: string, message: string, field?: string) => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});
const signInFirst = refusal(
  "authentication_required",
  "Sign in first: send `Authorization: Bearer <session token or API key>`.",
);
const notAKey = refusal("insufficient_permissions", "This operation needs a signed-in user, not an API key.");
const readOnly = refusal(
  "publishable_key_write",
  "Publishable keys are read-only: use a secret key (sk_…) from your server for this.",
);

describe("signedInUser: only a person", () => {
  it("admits a signed-in user as themselves", () => {
    expect(signedInUser(context(asUser(ada)))).toEqual({ ok: true, value: ada });
  });

  it("an anonymous caller is told to sign in; a bad credential gets its own failure", () => {
    expect(signedInUser(context(anonymous))).toEqual(signInFirst);
    expect(signedInUser(context(invalid))).toEqual({ ok: false, error: invalidFailure });
  });

  it("a secret key is not a person, for reads and writes alike", () => {
    expect(signedInUser(context(asKey(key("SECRET", ["*"]))), true)).toEqual(notAKey);
    expect(signedInUser(context(asKey(key("SECRET", ["*"]))), false)).toEqual(notAKey);
  });

  it("a publishable key is told it is read-only only when the operation writes", () => {
    const pk = context(asKey(key("PUBLISHABLE", ["keys:read"])));
    expect(signedInUser(pk)).toEqual(readOnly);
    expect(signedInUser(pk, false)).toEqual(notAKey);
    expect(publishableWrite()).toEqual(readOnly);
  });
});

describe("nobody: the caller who is no one", () => {
  it("anonymous and invalid callers are refused; anyone with a working credential is someone", () => {
    expect(nobody(context(anonymous))).toEqual(signInFirst);
    expect(nobody(context(invalid))).toEqual({ ok: false, error: invalidFailure });
    expect(nobody(context(asUser(ada)))).toBeNull();
    expect(nobody(context(asKey(key("PUBLISHABLE", []))))).toBeNull();
    expect(nobody(context(platformKey(["keys:verify"])))).toBeNull();
  });
});

describe("platformAdmin: people flagged by the operator", () => {
  it("admits a platform admin and refuses anyone else signed in", () => {
    expect(platformAdmin(context(asUser(root)), true)).toEqual({ ok: true, value: root });
    expect(platformAdmin(context(asUser(ada)), false)).toEqual(
      refusal("insufficient_permissions", "Only platform admins (npm run admin -- create-admin) manage platform keys."),
    );
  });

  it("an anonymous caller or a key gets signedInUser's answer for the intent", () => {
    expect(platformAdmin(context(anonymous), false)).toEqual(signInFirst);
    const pk = context(asKey(key("PUBLISHABLE", ["keys:read"])));
    expect(platformAdmin(pk, true)).toEqual(readOnly);
    expect(platformAdmin(pk, false)).toEqual(notAKey);
  });
});

describe("verifierCaller: who may call verifyApiKey at all", () => {
  it("a secret key or a signed-in user may", () => {
    expect(verifierCaller(context(asKey(key("SECRET", []))))).toEqual({ ok: true, value: true });
    expect(verifierCaller(context(asUser(ada)))).toEqual({ ok: true, value: true });
  });

  it("a publishable key may not (it is a write), nor an anonymous or invalid caller", () => {
    expect(verifierCaller(context(asKey(key("PUBLISHABLE", ["keys:read"]))))).toEqual(readOnly);
    expect(verifierCaller(context(anonymous))).toEqual(signInFirst);
    expect(verifierCaller(context(invalid))).toEqual({ ok: false, error: invalidFailure });
  });
});

describe("workspaceReader: who may ask for workspace(id | slug)", () => {
  it("a signed-in user may; a publishable key is not told it tried to write", () => {
    expect(workspaceReader(context(asUser(ada)))).toEqual({ ok: true, value: true });
    expect(workspaceReader(context(asKey(key("PUBLISHABLE", ["keys:read"]))))).toEqual(notAKey);
    expect(workspaceReader(context(anonymous))).toEqual(signInFirst);
  });

  it("a platform key may with workspaces:read", () => {
    expect(workspaceReader(context(platformKey(["workspaces:read"])))).toEqual({ ok: true, value: true });
  });
});

describe("requireWorkspace for a platform key", () => {
  it("anything but workspace:read is refused, naming what platform keys hold", async () => {
    const ctx = context(platformKey(["keys:verify", "workspaces:read"]));
    expect(await requireWorkspace(ctx, { id: A }, "keys:write")).toEqual(
      refusal("insufficient_scope", "Platform keys hold only keys:verify and workspaces:read, not keys:write."),
    );
  });

  it("a workspace that does not exist is not found", async () => {
    const ctx = context(platformKey(["workspaces:read"]));
    expect(await requireWorkspace(ctx, { slug: "nowhere" }, "workspace:read")).toEqual(
      refusal("not_found", "No such workspace."),
    );
  });
});

describe("verifiableBy: which keys a caller may verify", () => {
  const liveA = { workspaceId: A, environment: "LIVE" } as ApiKey;
  const testA = { workspaceId: A, environment: "TEST" } as ApiKey;
  const liveB = { workspaceId: B, environment: "LIVE" } as ApiKey;

  it("a key with keys:verify: its own workspace and environment only", async () => {
    const may = verifiableBy(context(asKey(key("SECRET", ["keys:verify"]))));
    expect([await may(liveA), await may(testA), await may(liveB)]).toEqual([true, false, false]);
  });

  it("a key without keys:verify: none, not even its own workspace's", async () => {
    const may = verifiableBy(context(asKey(key("SECRET", ["keys:read"]))));
    expect(await may(liveA)).toBe(false);
  });

  it("a `*` key: every workspace, but still only its own environment", async () => {
    const may = verifiableBy(context(asKey(key("SECRET", ["*"]))));
    expect([await may(liveA), await may(liveB), await may(testA)]).toEqual([true, true, false]);
  });

  it("a user: where their role has keys:verify (MODERATOR and up), in both environments", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MODERATOR", [`u-ada:${B}`]: "MEMBER" });
    const may = verifiableBy(ctx);
    expect([await may(liveA), await may(testA), await may(liveB)]).toEqual([true, true, false]);
    expect(ctx.loaders.membership.load).toHaveBeenCalledWith(`u-ada:${A}`);
  });

  it("a user of no workspace: none; a platform admin: all, without a membership", async () => {
    expect(await verifiableBy(context(asUser(ada)))(liveA)).toBe(false);
    const ctx = context(asUser(root));
    expect(await verifiableBy(ctx)(liveB)).toBe(true);
    expect(ctx.loaders.membership.load).not.toHaveBeenCalled();
  });

  it("anonymous and invalid callers: none", async () => {
    expect(await verifiableBy(context(anonymous))(liveA)).toBe(false);
    expect(await verifiableBy(context(invalid))(liveA)).toBe(false);
  });
});

describe("requireWorkspace for a workspace key", () => {
  const admitted = (k: ApiKey, held: string[]) => ({
    ok: true,
    value: {
      workspace: workspaceA,
      actor: { type: "api_key", id: k.id, ip: IP },
      user: null,
      key: k,
      role: "ADMIN",
      held,
      platformAdmin: false,
      environment: k.environment,
    },
  });
  const elsewhere = refusal("workspace_access_denied", "This API key belongs to another workspace.");

  it("acts in its own workspace, named by id or slug, as ADMIN within its scopes and environment", async () => {
    const sk = key("SECRET", ["keys:write", "keys:read"], { environment: "TEST" });
    expect(await requireWorkspace(context(asKey(sk)), { id: A }, "keys:write")).toEqual(
      admitted(sk, ["keys:write", "keys:read"]),
    );
    expect(await requireWorkspace(context(asKey(sk)), { slug: "acme" }, "keys:read")).toEqual(
      admitted(sk, ["keys:write", "keys:read"]),
    );
  });

  it("another workspace is refused the same way whether or not it exists, and without looking it up", async () => {
    const ctx = context(asKey(key("SECRET", ["*"])));
    for (const ref of [{ id: B }, { slug: "bolt" }, { id: "no-such-id" }, { slug: "nowhere" }, {}, { id: null }]) {
      expect(await requireWorkspace(ctx, ref, "keys:read"), JSON.stringify(ref)).toEqual(elsewhere);
    }
    // Both named: each must be its own.
    expect(await requireWorkspace(ctx, { id: A, slug: "bolt" }, "keys:read")).toEqual(elsewhere);
    expect(await requireWorkspace(ctx, { id: B, slug: "acme" }, "keys:read")).toEqual(elsewhere);
    expect(ctx.loaders.workspace.load).not.toHaveBeenCalled();
    expect(ctx.loaders.workspaceBySlug.load).not.toHaveBeenCalled();
  });

  it("a scope it lacks is named", async () => {
    const ctx = context(asKey(key("SECRET", ["keys:read"])));
    expect(await requireWorkspace(ctx, { id: A }, "keys:write")).toEqual(
      refusal("insufficient_scope", "This API key lacks the keys:write scope."),
    );
  });

  it("a publishable key: read-only, and only with the scopes a publishable key may carry", async () => {
    const pk = key("PUBLISHABLE", ["keys:read", "members:read", "keys:write"]);
    const ctx = context(asKey(pk));
    expect(await requireWorkspace(ctx, { id: A }, "keys:write")).toEqual(readOnly);
    expect(await requireWorkspace(ctx, { id: A }, "keys:read")).toEqual(admitted(pk, ["keys:read"]));
    expect(await requireWorkspace(ctx, { id: A }, "members:read")).toEqual(
      refusal("insufficient_scope", "This API key lacks the members:read scope."),
    );
  });

  it("a key whose workspace is gone is refused", async () => {
    const ctx = context(asKey(key("SECRET", ["*"])));
    ctx.loaders.workspace.load.mockResolvedValueOnce(null);
    expect(await requireWorkspace(ctx, { id: A }, "keys:read")).toEqual(
      refusal("workspace_access_denied", "This API key's workspace no longer exists."),
    );
  });
});

describe("requireWorkspace for a person", () => {
  const hidden = refusal("not_found", "No such workspace.");

  it("a member acts with their role's permissions, as themselves", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MODERATOR" });
    expect(await requireWorkspace(ctx, { slug: "acme" }, "keys:write")).toEqual({
      ok: true,
      value: {
        workspace: workspaceA,
        actor: { type: "user", id: "u-ada", ip: IP },
        user: ada,
        key: null,
        role: "MODERATOR",
        held: ["keys:read", "keys:write", "keys:verify", "members:read", "workspace:read"],
        platformAdmin: false,
        environment: null,
      },
    });
  });

  it("a permission the role lacks is refused, naming both", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MEMBER" });
    expect(await requireWorkspace(ctx, { id: A }, "keys:read")).toEqual(
      refusal("insufficient_permissions", "Your role (MEMBER) does not allow keys:read in this workspace."),
    );
  });

  it("someone else's workspace looks exactly like one that does not exist", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "OWNER" });
    const answers = [
      await requireWorkspace(ctx, { id: B }, "workspace:read"),
      await requireWorkspace(ctx, { id: "33333333-3333-4333-8333-000000000000" }, "workspace:read"),
      await requireWorkspace(ctx, { id: "not-a-uuid" }, "workspace:read"),
      await requireWorkspace(ctx, { slug: "nowhere" }, "workspace:read"),
      await requireWorkspace(ctx, {}, "workspace:read"),
    ];
    expect(answers).toEqual([hidden, hidden, hidden, hidden, hidden]);
    // A malformed id is not even looked up.
    expect(ctx.loaders.workspace.load).not.toHaveBeenCalledWith("not-a-uuid");
  });

  it("a reference naming neither id nor slug looks nothing up", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "OWNER" });
    expect(await requireWorkspace(ctx, { id: null, slug: null }, "workspace:read")).toEqual(hidden);
    expect(ctx.loaders.workspace.load).not.toHaveBeenCalled();
    expect(ctx.loaders.workspaceBySlug.load).not.toHaveBeenCalled();
  });

  it("a platform admin acts in any workspace as OWNER holding `*`, without a membership", async () => {
    const ctx = context(asUser(root));
    const access = await requireWorkspace(ctx, { id: B }, "ownership:transfer");
    expect(access).toEqual({
      ok: true,
      value: {
        workspace: workspaceB,
        actor: { type: "user", id: "u-root", ip: IP },
        user: root,
        key: null,
        role: "OWNER",
        held: ["*"],
        platformAdmin: true,
        environment: null,
      },
    });
    expect(ctx.loaders.membership.load).not.toHaveBeenCalled();
  });

  it("anonymous and invalid callers are refused before any lookup", async () => {
    for (const [principal, answer] of [
      [anonymous, signInFirst],
      [invalid, { ok: false, error: invalidFailure }],
    ] as const) {
      const ctx = context(principal);
      expect(await requireWorkspace(ctx, { id: A }, "workspace:read")).toEqual(answer);
      expect(ctx.loaders.workspace.load).not.toHaveBeenCalled();
    }
  });
});

describe("requireApiKey: a key by id", () => {
  const missing = refusal("not_found", "No such API key.", "id");

  it("a member with the permission gets the key and themselves as caller", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MODERATOR" });
    const access = await requireApiKey(ctx, KEY_ID, "keys:write");
    expect(access).toMatchObject({ ok: true, value: { apiKey: stored[KEY_ID], caller: { role: "MODERATOR" } } });
  });

  it("a key of another workspace, a made-up id and a malformed one all answer not_found on field id", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "OWNER" });
    expect(await requireApiKey(ctx, OTHER_KEY_ID, "keys:read")).toEqual(missing);
    expect(await requireApiKey(ctx, "66666666-6666-4666-8666-666666666666", "keys:read")).toEqual(missing);
    expect(await requireApiKey(ctx, "not-a-uuid", "keys:read")).toEqual(missing);
    expect(ctx.loaders.apiKey.load).not.toHaveBeenCalledWith("not-a-uuid");
  });

  it("a member without the permission is told so (the workspace is theirs)", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MEMBER" });
    expect(await requireApiKey(ctx, KEY_ID, "keys:write")).toEqual(
      refusal("insufficient_permissions", "Your role (MEMBER) does not allow keys:write in this workspace."),
    );
  });

  it("an anonymous caller gets the same answer for a real key id and a made-up one, before any lookup", async () => {
    const ctx = context(anonymous);
    expect(await requireApiKey(ctx, KEY_ID, "keys:read")).toEqual(signInFirst);
    expect(await requireApiKey(ctx, "66666666-6666-4666-8666-666666666666", "keys:read")).toEqual(signInFirst);
    expect(await requireApiKey(context(invalid), KEY_ID, "keys:read")).toEqual({ ok: false, error: invalidFailure });
    expect(ctx.loaders.apiKey.load).not.toHaveBeenCalled();
  });

  it("a workspace key sees only its own workspace's keys in its own environment", async () => {
    const live = context(asKey(key("SECRET", ["keys:read"])));
    expect(await requireApiKey(live, KEY_ID, "keys:read")).toMatchObject({
      ok: true,
      value: { apiKey: stored[KEY_ID] },
    });
    expect(await requireApiKey(live, OTHER_KEY_ID, "keys:read")).toEqual(missing);
    const test = context(asKey(key("SECRET", ["*"], { environment: "TEST" })));
    expect(await requireApiKey(test, KEY_ID, "keys:read")).toEqual(missing);
  });

  it("a publishable key is refused a write before the lookup, and may read", async () => {
    const ctx = context(asKey(key("PUBLISHABLE", ["keys:read"])));
    expect(await requireApiKey(ctx, KEY_ID, "keys:write")).toEqual(readOnly);
    expect(ctx.loaders.apiKey.load).not.toHaveBeenCalled();
    expect(await requireApiKey(ctx, KEY_ID, "keys:read")).toMatchObject({ ok: true });
  });

  it("a platform key is refused, naming what it holds, before the lookup", async () => {
    const ctx = context({ kind: "platform", key: { id: "p-1", scopes: ["keys:verify"] } as never });
    expect(await requireApiKey(ctx, KEY_ID, "keys:read")).toEqual(
      refusal("insufficient_scope", "Platform keys hold only keys:verify and workspaces:read, not keys:read."),
    );
    expect(ctx.loaders.apiKey.load).not.toHaveBeenCalled();
  });
});

describe("requireService: a service by id", () => {
  const serviceA = { id: SERVICE_ID, workspaceId: A } as Service;
  const serviceB = { id: "77777777-7777-4777-8777-777777777777", workspaceId: B } as Service;
  const missing = refusal("not_found", "No such service.", "id");

  it("a member with the permission gets the service", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "ADMIN" }, [serviceA]);
    expect(await requireService(ctx, SERVICE_ID, "keys:write")).toMatchObject({
      ok: true,
      value: { service: serviceA, caller: { role: "ADMIN" } },
    });
  });

  it("another workspace's service and a missing one look the same; a role too low is told so", async () => {
    const ctx = context(asUser(ada), { [`u-ada:${A}`]: "MEMBER" }, [serviceA, serviceB]);
    expect(await requireService(ctx, serviceB.id, "keys:read")).toEqual(missing);
    expect(await requireService(ctx, "88888888-8888-4888-8888-888888888888", "keys:read")).toEqual(missing);
    expect(await requireService(ctx, SERVICE_ID, "keys:write")).toEqual(
      refusal("insufficient_permissions", "Your role (MEMBER) does not allow keys:write in this workspace."),
    );
  });

  it("a workspace key: only its own workspace's services", async () => {
    const ctx = context(asKey(key("SECRET", ["keys:write"])), {}, [serviceA, serviceB]);
    expect(await requireService(ctx, SERVICE_ID, "keys:write")).toMatchObject({ ok: true });
    expect(await requireService(ctx, serviceB.id, "keys:write")).toEqual(missing);
  });

  it("an anonymous caller is told to sign in before any lookup", async () => {
    const ctx = context(anonymous, {}, [serviceA]);
    expect(await requireService(ctx, SERVICE_ID, "keys:read")).toEqual(signInFirst);
    expect(await requireService(context(invalid), SERVICE_ID, "keys:read")).toEqual({
      ok: false,
      error: invalidFailure,
    });
    expect(ctx.db.service.findUnique).not.toHaveBeenCalled();
  });
});

describe("permissions the workspace-key path checks, one by one", () => {
  it("a key holding exactly one scope is admitted for that one alone", async () => {
    const scopes: Permission[] = ["keys:read", "keys:write", "members:read", "audit:read", "webhooks:write"];
    for (const held of scopes) {
      const ctx = context(asKey(key("SECRET", [held])));
      for (const wanted of scopes) {
        const access = await requireWorkspace(ctx, { id: A }, wanted);
        expect(access.ok, `${held} → ${wanted}`).toBe(held === wanted);
      }
    }
  });
});
