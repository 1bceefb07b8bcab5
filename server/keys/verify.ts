import { type ErrorCode, fail, ok, type Result } from "../errors";
import type { ApiKey } from "../generated/prisma/client";
import type { KeyCache, WorkspaceState } from "./cache";
import { effectiveLimit } from "./input";
import { lookupKey } from "./lookup";
import type { RateDecision, RateLimits } from "./ratelimit";
import { effectiveScopes, holdsScope } from "./scopes";
import { checkKeyUse, checkRequiredServices } from "./status";
import type { UsageRecorder } from "./usage";

// verifyApiKey's engine. The order of checks is the contract:
// format and checksum (no I/O) → lookup → may the caller see it → revoked →
// not deployed → workspace switch → the key's own service switch → expired (incl.
// roll grace) → origin / IP → audience token → scopes → the required scopes' service
// switches → rate limit. A warm verification reads only the in-memory caches; in a
// workspace that requires deploys the lookup answers the key as the latest
// deployment published it, and the outcome names that deployment's version.

export interface VerifyRequest {
  key: string;
  requiredScopes: readonly string[];
  origin: string | null;
  ip: string | null;
  /** An audience token sent with the key (server/audience/tokens.ts); null when none was. */
  token: string | null;
}

/** The audience a token names, with its path to the root; or why the token is refused. */
export type AudienceVerdict = { ok: true; audience: string; path: readonly string[] } | { ok: false; message: string };

/** Checks an audience token against the verified key's workspace and environment. */
export interface AudienceTokens {
  check(key: ApiKey, token: string, now: Date): Promise<AudienceVerdict>;
}

export interface VerifyDeps {
  cache: KeyCache;
  limits: RateLimits;
  usage: UsageRecorder;
  audiences: AudienceTokens;
  now: Date;
}

/** What a caller asks to verify, as sent (GraphQL input, JSON body or forward-auth headers). */
export interface VerifyInput {
  key: string;
  requiredScopes?: readonly string[] | null;
  origin?: string | null;
  ip?: string | null;
  token?: string | null;
}

const MAX_KEY_INPUT = 512;
export const MAX_REQUIRED_SCOPES = 100;
export const MAX_TOKEN_LENGTH = 4096;

/** The limits every transport applies before verifying; the failure names `requiredScopes`. */
export function verifyRequest(input: VerifyInput): Result<VerifyRequest> {
  const requiredScopes = input.requiredScopes ?? [];
  if (requiredScopes.length > MAX_REQUIRED_SCOPES) {
    return fail("validation_failed", `requiredScopes: at most ${MAX_REQUIRED_SCOPES}`, "requiredScopes");
  }
  if (input.token && input.token.length > MAX_TOKEN_LENGTH) {
    return fail("validation_failed", `token: at most ${MAX_TOKEN_LENGTH} characters`, "token");
  }
  return ok({
    // A 10 KB "key" is refused by length without being hashed whole.
    key: input.key.slice(0, MAX_KEY_INPUT),
    requiredScopes,
    origin: input.origin ?? null,
    ip: input.ip ?? null,
    // An empty token is no token (an empty header, say).
    token: input.token || null,
  });
}

/** Whether the caller may verify keys of this workspace and environment. */
export type VerifyGate = (key: ApiKey) => boolean | Promise<boolean>;

export interface VerifyOutcome {
  code: "VALID" | ErrorCode;
  message: string;
  key: ApiKey | null;
  workspace: WorkspaceState | null;
  ratelimit: RateDecision | null;
  /** The audience a valid token named, with its path to the root. */
  audience: { name: string; path: readonly string[] } | null;
  /** The deployment that answered; null where the workspace does not require deploys. */
  deploymentVersion: number | null;
}

const NOT_FOUND = "No such API key is visible to you.";
const AUDIENCE_REQUIRED =
  "This workspace requires publishable keys to come with an audience token signed by one of its secret keys.";

// Module-level rather than closures inside verifyKey: this runs on every
// verification, and a closure per call is garbage per call.
function refuse(
  code: ErrorCode,
  message: string,
  key: ApiKey | null = null,
  workspace: WorkspaceState | null = null,
  deploymentVersion: number | null = null,
): VerifyOutcome {
  return { code, message, key, workspace, ratelimit: null, audience: null, deploymentVersion };
}

/** Counts the outcome for the key's usage, then returns it. */
function counted(deps: VerifyDeps, key: ApiKey, outcome: VerifyOutcome): VerifyOutcome {
  deps.usage.count(key.id, outcome.code, deps.now);
  return outcome;
}

export async function verifyKey(
  deps: VerifyDeps,
  mayVerify: VerifyGate,
  request: VerifyRequest,
): Promise<VerifyOutcome> {
  const found = await lookupKey(deps.cache, request.key);
  if (!found.found) {
    return found.malformed ? refuse("invalid_key_format", found.malformed) : refuse("not_found", NOT_FOUND);
  }
  const { key, workspace, inactiveServices, deploymentVersion } = found;
  // Unknown, and known but not the caller's to verify, answer alike.
  if (!(await mayVerify(key))) return refuse("not_found", NOT_FOUND);

  const refused = checkKeyUse(key, {
    now: deps.now,
    keysEnabled: workspace.keysEnabled,
    inactiveServices,
    deployed: found.deployed,
    origin: request.origin,
    ip: request.ip,
  });
  if (refused) {
    return counted(deps, key, refuse(refused.code, refused.message, key, workspace, deploymentVersion));
  }
  let audience: VerifyOutcome["audience"] = null;
  if (request.token !== null) {
    const verdict = await deps.audiences.check(key, request.token, deps.now);
    if (!verdict.ok) {
      return counted(deps, key, refuse("invalid_audience_token", verdict.message, key, workspace, deploymentVersion));
    }
    audience = { name: verdict.audience, path: verdict.path };
  } else if (key.type === "PUBLISHABLE" && workspace.requireAudienceToken) {
    return counted(deps, key, refuse("audience_token_required", AUDIENCE_REQUIRED, key, workspace, deploymentVersion));
  }
  const held = effectiveScopes(key);
  const missing = request.requiredScopes.find((scope) => !holdsScope(held, scope));
  if (missing) {
    const message = `The key lacks the ${missing} scope.`;
    return counted(deps, key, refuse("insufficient_scope", message, key, workspace, deploymentVersion));
  }
  const switchedOff = checkRequiredServices(request.requiredScopes, inactiveServices);
  if (switchedOff) {
    return counted(deps, key, refuse(switchedOff.code, switchedOff.message, key, workspace, deploymentVersion));
  }

  const ratelimit = await deps.limits.consume("key", key.id, effectiveLimit(key));
  if (!ratelimit.allowed) {
    return counted(deps, key, {
      code: "rate_limit_exceeded",
      message: "The key's rate limit is exhausted.",
      key,
      workspace,
      ratelimit,
      audience: null,
      deploymentVersion,
    });
  }
  // Only a successful verification counts as a use.
  deps.usage.touch(key.id, deps.now);
  const valid: VerifyOutcome = {
    code: "VALID",
    message: "The key is valid.",
    key,
    workspace,
    ratelimit,
    audience,
    deploymentVersion,
  };
  return counted(deps, key, valid);
}

/** The answer about one key as plain data: the GraphQL `VerifyResult` and the JSON of `POST /v1/keys/verify`. */
export interface VerifyResultView {
  valid: boolean;
  code: VerifyOutcome["code"];
  message: string;
  keyId: string | null;
  workspaceId: string | null;
  environment: ApiKey["environment"] | null;
  type: ApiKey["type"] | null;
  scopes: string[] | null;
  expiresAt: Date | null;
  metadata: ApiKey["metadata"] | null;
  ratelimit: { limit: number; remaining: number; resetAt: Date } | null;
  audience: string | null;
  audiencePath: readonly string[] | null;
  deploymentVersion: number | null;
}

export function verifyResultView({
  code,
  message,
  key,
  ratelimit,
  audience,
  deploymentVersion,
}: VerifyOutcome): VerifyResultView {
  return {
    valid: code === "VALID",
    code,
    message,
    keyId: key?.id ?? null,
    workspaceId: key?.workspaceId ?? null,
    environment: key?.environment ?? null,
    type: key?.type ?? null,
    scopes: key ? effectiveScopes(key) : null,
    expiresAt: key?.expiresAt ?? null,
    metadata: key?.metadata ?? null,
    ratelimit: ratelimit && { limit: ratelimit.limit, remaining: ratelimit.remaining, resetAt: ratelimit.resetAt },
    audience: audience?.name ?? null,
    audiencePath: audience?.path ?? null,
    deploymentVersion,
  };
}
