import { randomUUID } from "node:crypto";
import { PASSWORD } from "../app";
import type { CallerName, World } from "./world";

// Arguments for each root field: valid input, so that a refusal in the matrix is
// the authorization rule speaking and never a validation error. Mutations get a
// fresh target per cell. A root field without a recipe fails the matrix test, so
// a new operation cannot be left out of docs/permissions.md.

export interface Recipe {
  args(world: World, caller: CallerName): Promise<Record<string, unknown>>;
  /** Runs with a new session of the caller (the operation ends the session it runs in). */
  ownSession?: boolean;
}

const input = (value: Record<string, unknown>) => ({ input: value });
const audienceName = () => `matrix-${randomUUID().slice(0, 8)}`;

/** A new root audience of the workspace, made by its owner. */
async function freshAudience(w: World): Promise<string> {
  const { createAudience } = await w.owner.createAudience({
    input: { workspaceId: w.workspace.id, name: audienceName() },
  });
  return createAudience.id;
}

const serviceSlug = () => `svc-${randomUUID().slice(0, 8)}`;

/** A new active service of the workspace, made by its owner. */
async function freshService(w: World) {
  const { createService } = await w.owner.createService({
    input: { workspaceId: w.workspace.id, slug: serviceSlug(), name: "Matrix service" },
  });
  return createService;
}

/** A new LIVE webhook endpoint of the workspace, made by its owner (a public address: no request is sent). */
async function freshEndpoint(w: World): Promise<string> {
  const { createWebhookEndpoint } = await w.owner.createWebhookEndpoint({
    input: { workspaceId: w.workspace.id, environment: "LIVE", url: "https://203.0.113.10/hooks", events: ["ping"] },
  });
  return createWebhookEndpoint.endpoint.id;
}

// Operations that leave their endpoint in place share one, so the matrix stays
// under the workspace's endpoint limit.
const sharedEndpoints = new WeakMap<World, Promise<string>>();
function sharedEndpoint(w: World): Promise<string> {
  let id = sharedEndpoints.get(w);
  if (!id) {
    id = freshEndpoint(w);
    sharedEndpoints.set(w, id);
  }
  return id;
}

/** A queued test delivery. */
async function freshDelivery(w: World): Promise<string> {
  const { sendTestWebhook } = await w.owner.sendTestWebhook({ input: { id: await sharedEndpoint(w) } });
  return sendTestWebhook.id;
}

export const QUERY_RECIPES: Record<string, Recipe> = {
  me: { args: async () => ({}) },
  workspace: { args: async (w) => ({ id: w.workspace.id }) },
  apiKey: { args: async (w) => ({ id: w.liveKey.id }) },
  apiKeys: { args: async (w) => ({ workspaceId: w.workspace.id, environment: "LIVE" }) },
  auditEvents: { args: async (w) => ({ workspaceId: w.workspace.id }) },
  auditChain: { args: async (w) => ({ workspaceId: w.workspace.id }) },
  platformKeys: { args: async () => ({}) },
  audiences: { args: async (w) => ({ workspaceId: w.workspace.id }) },
  services: { args: async (w) => ({ workspaceId: w.workspace.id }) },
  deployments: { args: async (w) => ({ workspaceId: w.workspace.id }) },
  pendingDeployment: { args: async (w) => ({ workspaceId: w.workspace.id }) },
  webhookEndpoints: { args: async (w) => ({ workspaceId: w.workspace.id, environment: "LIVE" }) },
  webhookDeliveries: { args: async (w) => ({ endpointId: await sharedEndpoint(w) }) },
};

export const MUTATION_RECIPES: Record<string, Recipe> = {
  signUp: {
    args: async () =>
      input({ email: `matrix.${randomUUID().slice(0, 8)}@example.com`, password: PASSWORD, name: "New" }),
  },
  signIn: { args: async (w) => input({ email: (await w.freshUser()).email, password: PASSWORD }) },
  signOut: { args: async () => input({ allSessions: false }), ownSession: true },
  createWorkspace: {
    args: async () => input({ name: "Made in the matrix", slug: `made-${randomUUID().slice(0, 8)}` }),
  },
  addMember: {
    args: async (w) => input({ workspaceId: w.workspace.id, email: (await w.freshUser()).email, role: "MEMBER" }),
  },
  updateMemberRole: {
    args: async (w) => input({ workspaceId: w.workspace.id, userId: (await w.freshMember()).id, role: "MODERATOR" }),
  },
  removeMember: { args: async (w) => input({ workspaceId: w.workspace.id, userId: (await w.freshMember()).id }) },
  setKeysEnabled: { args: async (w) => input({ workspaceId: w.workspace.id, enabled: true }) },
  createApiKey: {
    args: async (w) =>
      input({ workspaceId: w.workspace.id, name: "made", type: "SECRET", environment: "LIVE", scopes: ["keys:read"] }),
  },
  updateApiKey: { args: async (w) => input({ id: (await w.freshKey()).id, name: "renamed" }) },
  rollApiKey: { args: async (w) => input({ id: (await w.freshKey()).id, gracePeriodSeconds: 60 }) },
  revokeApiKey: { args: async (w) => input({ id: (await w.freshKey()).id, reason: "matrix" }) },
  verifyApiKey: { args: async (w) => input({ key: w.liveKey.secret }) },
  createPlatformKey: { args: async () => input({ name: "matrix", scopes: ["keys:verify"] }) },
  revokePlatformKey: { args: async (w) => input({ id: (await w.freshPlatformKey()).id, reason: "matrix" }) },
  createAudience: { args: async (w) => input({ workspaceId: w.workspace.id, name: audienceName() }) },
  renameAudience: { args: async (w) => input({ id: await freshAudience(w), name: audienceName() }) },
  deleteAudience: { args: async (w) => input({ id: await freshAudience(w) }) },
  setRequireAudienceToken: { args: async (w) => input({ workspaceId: w.workspace.id, required: false }) },
  createService: {
    args: async (w) => input({ workspaceId: w.workspace.id, slug: serviceSlug(), name: "Made in the matrix" }),
  },
  setServiceActive: { args: async (w) => input({ id: (await freshService(w)).id, active: false }) },
  createKeyPair: {
    args: async (w) =>
      input({
        workspaceId: w.workspace.id,
        name: "made pair",
        environment: "LIVE",
        publishable: { scopes: ["keys:read"], allowedOrigins: ["https://app.example.com"] },
        secret: { scopes: ["keys:read"] },
      }),
  },
  regenerateKeyPair: {
    args: async (w) => {
      const { createKeyPair } = await w.owner.createKeyPair({
        input: {
          workspaceId: w.workspace.id,
          name: "matrix pair",
          environment: "LIVE",
          publishable: { scopes: ["keys:read"], allowedOrigins: ["https://app.example.com"] },
          secret: { scopes: ["keys:read"] },
        },
      });
      return input({ id: createKeyPair.secretKey.apiKey.id });
    },
  },
  // The matrix's workspace does not require deploys: publishing records a version
  // and switching off what is off changes nothing, so no cell disturbs another.
  setRequireDeploy: { args: async (w) => input({ workspaceId: w.workspace.id, enabled: false }) },
  deployKeys: { args: async (w) => input({ workspaceId: w.workspace.id, note: "matrix" }) },
  rollbackKeys: {
    args: async (w) => {
      const { deployKeys } = await w.owner.deployKeys({ input: { workspaceId: w.workspace.id } });
      return input({ workspaceId: w.workspace.id, version: deployKeys.version });
    },
  },
  // Setting the default again leaves the workspace as every other cell expects it.
  setLeakPolicy: { args: async (w) => input({ workspaceId: w.workspace.id, policy: "REVOKE" }) },
  // A fresh key per cell: a report revokes it (the default policy), never a key another cell uses.
  reportLeakedKey: {
    args: async (w) => input({ key: (await w.freshKey()).secret, url: "https://github.com/acme/app/blob/main/.env" }),
  },
  createWebhookEndpoint: {
    args: async (w) =>
      input({
        workspaceId: w.workspace.id,
        environment: "LIVE",
        url: "https://203.0.113.10/hooks",
        events: ["key.created"],
      }),
  },
  updateWebhookEndpoint: { args: async (w) => input({ id: await sharedEndpoint(w), description: "matrix" }) },
  deleteWebhookEndpoint: { args: async (w) => input({ id: await freshEndpoint(w) }) },
  rotateWebhookSecret: { args: async (w) => input({ id: await sharedEndpoint(w) }) },
  sendTestWebhook: { args: async (w) => input({ id: await sharedEndpoint(w) }) },
  redeliverWebhook: { args: async (w) => input({ id: await freshDelivery(w) }) },
};

/** Values for required arguments of fields below the root (e.g. ApiKey.usage). */
export function fieldArgument(name: string, typeName: string): unknown {
  const hour = 3600_000;
  if (name === "from") return new Date(Date.now() - 24 * hour).toISOString();
  if (name === "to") return new Date(Date.now() + hour).toISOString();
  if (typeName === "Int") return 10;
  if (typeName === "ID") return randomUUID();
  if (typeName === "DateTime") return new Date().toISOString();
  if (typeName === "Boolean") return true;
  return "matrix";
}
