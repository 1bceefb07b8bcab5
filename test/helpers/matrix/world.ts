import { randomUUID } from "node:crypto";
import type { KeywardClient } from "@keyward/sdk";
import { WORKSPACE_SCOPES } from "../../../server/auth/permissions";
import { createPlatformAdmin } from "../../../server/identity/accounts";
import { createPlatformKey } from "../../../server/platform/lifecycle";
import { PASSWORD, signUpUser, type TestApp, uniqueEmail } from "../app";

// The callers of the authorization matrix and the objects they act on. Every
// kind of credential Keyward knows appears once; mutations get fresh targets
// from the factories below so no cell depends on another.

export const CALLERS = [
  "anonymous",
  "bad token",
  "MEMBER",
  "MODERATOR",
  "ADMIN",
  "OWNER",
  "non-member",
  "platform admin",
  "sk (scoped)",
  "sk (no scope)",
  "pk",
  "sk (other ws)",
  "platform key",
] as const;
export type CallerName = (typeof CALLERS)[number];

export const CALLER_LEGEND: Record<CallerName, string> = {
  anonymous: "no Authorization header",
  "bad token": "a bearer token that is no credential (`Bearer kws_` + garbage)",
  MEMBER: "a signed-in user with that role in the workspace",
  MODERATOR: "a signed-in user with that role in the workspace",
  ADMIN: "a signed-in user with that role in the workspace",
  OWNER: "a signed-in user with that role in the workspace",
  "non-member": "a signed-in user who is not a member of the workspace",
  "platform admin": "a signed-in platform admin (made with `npm run admin -- create-admin`), not a member",
  "sk (scoped)": "a LIVE secret key of the workspace holding every workspace scope",
  "sk (no scope)": "a LIVE secret key of the workspace holding no scope",
  pk: "a LIVE publishable key of the workspace (`keys:read`), sent from its allowed Origin",
  "sk (other ws)": "a LIVE secret key of another workspace holding every workspace scope",
  "platform key": "a platform key (`kwp_…`) holding every platform scope: `keys:verify` and `workspaces:read`",
};

export const PK_ORIGIN = "https://app.example.com";

export interface Caller {
  /** Headers this caller sends with every request. */
  headers: Record<string, string>;
  /** A user caller's sign-in, for operations that end the caller's own session. */
  email: string | null;
}

export interface World {
  app: TestApp;
  workspace: { id: string; slug: string };
  owner: KeywardClient;
  callers: Record<CallerName, Caller>;
  /** A LIVE secret key of the workspace that stays valid (for verifyApiKey and reads). */
  liveKey: { id: string; secret: string };
  /** A new LIVE secret key of the workspace. */
  freshKey(): Promise<{ id: string; secret: string }>;
  /** A new user, added to the workspace as MEMBER. */
  freshMember(): Promise<{ id: string; email: string }>;
  /** A new signed-up user who belongs to no workspace. */
  freshUser(): Promise<{ id: string; email: string }>;
  /** Headers of a new session for a user caller (for signOut, which ends it). */
  freshHeaders(name: CallerName): Promise<Record<string, string>>;
  /** A new platform key (made as the command line makes them), e.g. to revoke. */
  freshPlatformKey(): Promise<{ id: string; secret: string }>;
}

// The matrix spends hundreds of requests per key; a refusal must be a rule, not a spent limit.
const ROOMY = { limit: 1_000_000, windowSeconds: 3600 };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function buildWorld(app: TestApp): Promise<World> {
  const owner = await signUpUser(app, "owner");
  const slug = `matrix-${randomUUID().slice(0, 8)}`;
  const { createWorkspace: workspace } = await owner.client.createWorkspace({ input: { name: "Matrix", slug } });
  const mint = async (client: KeywardClient, workspaceId: string, scopes: string[], type = "SECRET" as const) => {
    const { createApiKey } = await client.createApiKey({
      input: { workspaceId, name: `matrix ${scopes.length}`, type, environment: "LIVE", scopes, rateLimit: ROOMY },
    });
    return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
  };
  const member = async (role: "MEMBER" | "MODERATOR" | "ADMIN") => {
    const user = await signUpUser(app, role.toLowerCase());
    await owner.client.addMember({ input: { workspaceId: workspace.id, email: user.email, role } });
    return { headers: bearer(user.token), email: user.email };
  };
  const stranger = await signUpUser(app, "stranger");
  const adminEmail = uniqueEmail("platform");
  const created = await createPlatformAdmin(
    app.db,
    { email: adminEmail, password: PASSWORD, name: "Ops" },
    app.clock.now,
  );
  if (!created.ok) throw new Error(`platform admin: ${created.error.message}`);
  const { signIn: admin } = await app.client().signIn({ input: { email: adminEmail, password: PASSWORD } });
  const other = await signUpUser(app, "other");
  const { createWorkspace: otherWorkspace } = await other.client.createWorkspace({
    input: { name: "Other", slug: `other-${randomUUID().slice(0, 8)}` },
  });
  const { createApiKey: publishable } = await owner.client.createApiKey({
    input: {
      workspaceId: workspace.id,
      name: "matrix pk",
      type: "PUBLISHABLE",
      environment: "LIVE",
      scopes: ["keys:read"],
      allowedOrigins: [PK_ORIGIN],
      rateLimit: ROOMY,
    },
  });
  const scoped = await mint(owner.client, workspace.id, [...WORKSPACE_SCOPES]);
  const platformKey = async (scopes = ["keys:verify", "workspaces:read"]) => {
    const made = await createPlatformKey(
      app.db,
      { type: "system", id: null, ip: null },
      { name: "matrix", scopes },
      app.clock.now,
    );
    if (!made.ok) throw new Error(`platform key: ${made.error.message}`);
    return { id: made.value.platformKey.id, secret: made.value.secret };
  };
  // One deployment, so the fields below `deployments` have a row to show.
  await owner.client.deployKeys({ input: { workspaceId: workspace.id, note: "matrix" } });
  const callers: Record<CallerName, Caller> = {
    anonymous: { headers: {}, email: null },
    "bad token": { headers: bearer(`kws_${"x".repeat(43)}`), email: null },
    MEMBER: await member("MEMBER"),
    MODERATOR: await member("MODERATOR"),
    ADMIN: await member("ADMIN"),
    OWNER: { headers: bearer(owner.token), email: owner.email },
    "non-member": { headers: bearer(stranger.token), email: stranger.email },
    "platform admin": { headers: bearer(admin.token), email: adminEmail },
    "sk (scoped)": { headers: bearer(scoped.secret), email: null },
    "sk (no scope)": { headers: bearer((await mint(owner.client, workspace.id, [])).secret), email: null },
    pk: { headers: { ...bearer(publishable.secret), origin: PK_ORIGIN }, email: null },
    "sk (other ws)": {
      headers: bearer((await mint(other.client, otherWorkspace.id, [...WORKSPACE_SCOPES])).secret),
      email: null,
    },
    "platform key": { headers: bearer((await platformKey()).secret), email: null },
  };
  const freshUser = async () => {
    const user = await signUpUser(app, "target");
    return { id: user.user.id, email: user.email };
  };
  return {
    app,
    workspace: { id: workspace.id, slug: workspace.slug },
    owner: owner.client,
    callers,
    liveKey: await mint(owner.client, workspace.id, ["keys:read"]),
    freshKey: () => mint(owner.client, workspace.id, ["keys:read"]),
    freshUser,
    freshMember: async () => {
      const user = await freshUser();
      await owner.client.addMember({ input: { workspaceId: workspace.id, email: user.email, role: "MEMBER" } });
      return user;
    },
    freshPlatformKey: () => platformKey(),
    freshHeaders: async (name) => {
      const { email, headers } = callers[name];
      if (!email) return headers;
      const { signIn } = await app.client().signIn({ input: { email, password: PASSWORD } });
      return bearer(signIn.token);
    },
  };
}
