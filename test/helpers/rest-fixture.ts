import type { CreateApiKeyInput, VerifyApiKeyMutation } from "@keyward/sdk";
import { generateKey } from "../../server/keys/format";
import { signUpUser, type TestApp } from "./app";

// Keys in every state the verify path knows, for the plain-HTTP route tests
// (test/api/rest-verify.test.ts through yoga.fetch, test/server/rest-node.test.ts
// through node:http): each case is asked of GraphQL's verifyApiKey, of
// POST /v1/keys/verify and of /v1/authorize, and the answers must agree.

/** How a test reaches the plain-HTTP routes, and the address the server sees it come from. */
export interface RestTransport {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  clientIp: string;
}

/** Every state the verify path knows, in the order the tests ask (the rate-limited key is spent first). */
export const CASE_NAMES = [
  "valid",
  "unknown",
  "revoked",
  "expired",
  "rolled past grace",
  "keys_disabled",
  "insufficient_scope",
  "publishable from a foreign origin",
  "publishable from its origin",
  "ip_not_allowed",
  "inside its IP allowlist",
  "rate_limit_exceeded",
  "bound to an inactive service",
  "requiring an inactive service's scope",
  "malformed",
  "deployed, its update pending",
  "not deployed",
  "revoked, not yet deployed",
  "revoked immediately",
] as const;

export type CaseName = (typeof CASE_NAMES)[number];

export interface VerifyCase {
  key: string;
  requiredScopes?: string[];
  origin?: string;
  /** verifyApiKey's answer code; /v1/authorize answers its catalog status. */
  code: string;
}

export type Verdict = VerifyApiKeyMutation["verifyApiKey"];

export interface RestFixture {
  owner: Awaited<ReturnType<typeof signUpUser>>;
  workspaceId: string;
  /** A workspace of someone else, for keys the owner may not verify. */
  strangerKey: string;
  cases: Record<CaseName, VerifyCase>;
  makeKey(input?: Partial<Omit<CreateApiKeyInput, "workspaceId">>): Promise<{ id: string; secret: string }>;
}

let slugs = 0;

export async function seedRestFixture(app: TestApp, clientIp: string): Promise<RestFixture> {
  const owner = await signUpUser(app, "rest-owner");
  const slug = (name: string) => `${name}-${process.pid}-${++slugs}`;
  const workspaceId = (await owner.client.createWorkspace({ input: { name: "REST", slug: slug("rest") } }))
    .createWorkspace.id;
  const makeKeyIn = async (wsId: string, input: Partial<Omit<CreateApiKeyInput, "workspaceId">> = {}) => {
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId: wsId,
        name: "customer key",
        type: "SECRET",
        environment: "LIVE",
        scopes: ["service.forms.read", "keys:read"],
        ...input,
      },
    });
    return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
  };
  const makeKey = (input?: Partial<Omit<CreateApiKeyInput, "workspaceId">>) => makeKeyIn(workspaceId, input);
  const service = async (name: string) =>
    (await owner.client.createService({ input: { workspaceId, slug: name, name } })).createService.id;
  await service("forms");
  const lapsed = await service("lapsed");

  const valid = await makeKey();
  const revoked = await makeKey();
  await owner.client.revokeApiKey({ input: { id: revoked.id, reason: "leaked" } });
  const expired = await makeKey({ expiresAt: new Date(app.clock.now.getTime() + 10_000).toISOString() });
  const rolled = await makeKey();
  await owner.client.rollApiKey({ input: { id: rolled.id, gracePeriodSeconds: 60 } });
  const off = (await owner.client.createWorkspace({ input: { name: "Off", slug: slug("rest-off") } })).createWorkspace;
  const disabled = await makeKeyIn(off.id, { scopes: ["keys:read"] });
  await owner.client.setKeysEnabled({ input: { workspaceId: off.id, enabled: false } });
  const publishable = await makeKey({
    type: "PUBLISHABLE",
    scopes: ["keys:read"],
    allowedOrigins: ["https://app.example.com"],
  });
  const fenced = await makeKey({ allowedIps: ["198.51.100.0/24"] });
  const inside = await makeKey({ allowedIps: [`${clientIp}/32`] });
  const limited = await makeKey({ rateLimit: { limit: 1, windowSeconds: 3600 } });
  const boundToLapsed = await makeKey({ serviceId: lapsed, scopes: ["service.lapsed.read"] });
  const spanning = await makeKey({ scopes: ["service.forms.read", "service.lapsed.read"] });
  await owner.client.setServiceActive({ input: { id: lapsed, active: false } });
  // The one request limited allows, spent before the cases run.
  await owner.client.verifyApiKey({ input: { key: limited.secret } });
  // Past the expiry and the roll's grace period.
  app.clock.advance(61_000);

  // A workspace that requires deploys: verification answers from its latest deployment.
  const gated = (await owner.client.createWorkspace({ input: { name: "Gated", slug: slug("rest-gated") } }))
    .createWorkspace.id;
  // Its keys hold service.forms.read like the others, so it has a forms service too.
  await owner.client.createService({ input: { workspaceId: gated, slug: "forms", name: "forms" } });
  await owner.client.setRequireDeploy({ input: { workspaceId: gated, enabled: true } });
  const [deployed, pendingRevoke, braked] = [await makeKeyIn(gated), await makeKeyIn(gated), await makeKeyIn(gated)];
  await owner.client.deployKeys({ input: { workspaceId: gated } });
  const undeployed = await makeKeyIn(gated);
  await owner.client.updateApiKey({ input: { id: deployed.id, scopes: ["keys:read"] } });
  await owner.client.revokeApiKey({ input: { id: pendingRevoke.id } });
  await owner.client.revokeApiKey({ input: { id: braked.id, immediate: true } });

  const stranger = await signUpUser(app, "rest-stranger");
  const strangerWs = (await stranger.client.createWorkspace({ input: { name: "S", slug: slug("rest-s") } }))
    .createWorkspace.id;
  const strangerKey = (
    await stranger.client.createApiKey({
      input: { workspaceId: strangerWs, name: "theirs", type: "SECRET", environment: "LIVE", scopes: [] },
    })
  ).createApiKey.secret;

  const cases: Record<CaseName, VerifyCase> = {
    valid: { key: valid.secret, requiredScopes: ["service.forms.read"], code: "VALID" },
    unknown: { key: generateKey("SECRET", "LIVE"), code: "not_found" },
    revoked: { key: revoked.secret, code: "invalid_api_key" },
    expired: { key: expired.secret, code: "key_expired" },
    "rolled past grace": { key: rolled.secret, code: "key_expired" },
    keys_disabled: { key: disabled.secret, code: "keys_disabled" },
    insufficient_scope: { key: valid.secret, requiredScopes: ["keys:write"], code: "insufficient_scope" },
    "publishable from a foreign origin": {
      key: publishable.secret,
      origin: "https://evil.example.com",
      code: "origin_not_allowed",
    },
    "publishable from its origin": { key: publishable.secret, origin: "https://app.example.com", code: "VALID" },
    ip_not_allowed: { key: fenced.secret, code: "ip_not_allowed" },
    "inside its IP allowlist": { key: inside.secret, code: "VALID" },
    rate_limit_exceeded: { key: limited.secret, code: "rate_limit_exceeded" },
    "bound to an inactive service": { key: boundToLapsed.secret, code: "service_inactive" },
    "requiring an inactive service's scope": {
      key: spanning.secret,
      requiredScopes: ["service.forms.read", "service.lapsed.read"],
      code: "service_inactive",
    },
    malformed: { key: "sk_live_nope", code: "invalid_key_format" },
    "deployed, its update pending": { key: deployed.secret, requiredScopes: ["service.forms.read"], code: "VALID" },
    "not deployed": { key: undeployed.secret, code: "key_not_deployed" },
    "revoked, not yet deployed": { key: pendingRevoke.secret, code: "VALID" },
    "revoked immediately": { key: braked.secret, code: "invalid_api_key" },
  };
  return { owner, workspaceId, strangerKey, cases, makeKey };
}

/** The verdict without what differs per call (the remaining count and reset time). */
export function stable(verdict: Record<string, unknown>) {
  const { ratelimit, ...rest } = verdict;
  return { ...rest, ratelimit: ratelimit ? { limit: (ratelimit as { limit: number }).limit } : null };
}

export const postJson = (body: unknown, token?: string, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: {
    "content-type": "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
