import { describe, expect, it, vi } from "vitest";
import {
  platformAdmin,
  requireApiKey,
  requireWorkspace,
  signedInUser,
  verifiableBy,
  verifierCaller,
  workspaceReader,
} from "../../server/auth/access";
import { WORKSPACE_SCOPES } from "../../server/auth/permissions";
import type { Principal } from "../../server/auth/principal";
import type { Context } from "../../server/context";
import type { ApiKey, PlatformKey, Workspace } from "../../server/generated/prisma/client";

// What a platform key may do, decided in server/auth/access.ts, without the shield in
// front: several of these checks sit behind a shield rule that asks the same thing
// first, so only here can each be seen to hold on its own.

const workspace = { id: "11111111-1111-4111-8111-111111111111", slug: "acme" } as Workspace;

function platform(scopes: string[]): Principal {
  return { kind: "platform", key: { id: "p-1", scopes } as PlatformKey };
}

function context(principal: Principal) {
  const loaders = {
    workspace: { load: vi.fn(async (id: string) => (id === workspace.id ? workspace : null)) },
    workspaceBySlug: { load: vi.fn(async () => null) },
    apiKey: { load: vi.fn(async () => null) },
    membership: { load: vi.fn(async () => null) },
  };
  return { principal, loaders, ip: "203.0.113.1" } as unknown as Context & { loaders: typeof loaders };
}

const keyOf = (workspaceId: string, environment: "LIVE" | "TEST") => ({ workspaceId, environment }) as ApiKey;

describe("keys:verify", () => {
  it("admits a platform key holding it as a verifier of any workspace's keys, in both environments", async () => {
    const ctx = context(platform(["keys:verify"]));
    expect(verifierCaller(ctx)).toEqual({ ok: true, value: true });
    const may = verifiableBy(ctx);
    expect(await may(keyOf("ws-a", "LIVE"))).toBe(true);
    expect(await may(keyOf("ws-b", "TEST"))).toBe(true);
  });

  it("without it, a platform key is no verifier, and could verify no key even past that rule", async () => {
    const ctx = context(platform(["workspaces:read"]));
    expect(verifierCaller(ctx)).toEqual({
      ok: false,
      error: { code: "insufficient_scope", message: "This platform key lacks the keys:verify scope." },
    });
    expect(await verifiableBy(ctx)(keyOf("ws-a", "LIVE"))).toBe(false);
  });
});

describe("workspaces:read", () => {
  it("reads any workspace as a MEMBER-like caller holding nothing, acting as itself", async () => {
    const ctx = context(platform(["workspaces:read"]));
    expect(workspaceReader(ctx).ok).toBe(true);
    const access = await requireWorkspace(ctx, { id: workspace.id }, "workspace:read");
    expect(access).toMatchObject({
      ok: true,
      value: {
        workspace,
        actor: { type: "platform_key", id: "p-1", ip: "203.0.113.1" },
        user: null,
        key: null,
        role: "MEMBER",
        held: [],
        platformAdmin: false,
      },
    });
    expect(await requireWorkspace(ctx, { slug: "missing" }, "workspace:read")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });

  it("without it, both the caller rule and the workspace check refuse, before looking the workspace up", async () => {
    const ctx = context(platform(["keys:verify"]));
    const lacks = { code: "insufficient_scope", message: "This platform key lacks the workspaces:read scope." };
    expect(workspaceReader(ctx)).toEqual({ ok: false, error: lacks });
    expect(await requireWorkspace(ctx, { id: workspace.id }, "workspace:read")).toEqual({ ok: false, error: lacks });
    expect(ctx.loaders.workspace.load).not.toHaveBeenCalled();
  });

  it("grants no other workspace permission, whatever the key holds", async () => {
    const ctx = context(platform(["keys:verify", "workspaces:read"]));
    for (const permission of [...WORKSPACE_SCOPES.filter((s) => s !== "workspace:read"), "workspace:delete"] as const) {
      const access = await requireWorkspace(ctx, { id: workspace.id }, permission);
      expect(access, permission).toMatchObject({ ok: false, error: { code: "insufficient_scope" } });
    }
    expect(ctx.loaders.workspace.load).not.toHaveBeenCalled();
  });
});

describe("everything else", () => {
  it("an API key by id is refused before it is looked up, so key ids cannot be probed", async () => {
    const ctx = context(platform(["keys:verify", "workspaces:read"]));
    const access = await requireApiKey(ctx, "22222222-2222-4222-8222-222222222222", "keys:read");
    expect(access).toMatchObject({ ok: false, error: { code: "insufficient_scope" } });
    expect(ctx.loaders.apiKey.load).not.toHaveBeenCalled();
  });

  it("is not a signed-in user, so not a platform admin either", () => {
    const ctx = context(platform(["keys:verify", "workspaces:read"]));
    const refused = {
      ok: false,
      error: {
        code: "insufficient_permissions",
        message: "This operation needs a signed-in user, not a platform key.",
      },
    };
    expect(signedInUser(ctx)).toEqual(refused);
    expect(platformAdmin(ctx, true)).toEqual(refused);
  });
});
